import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';

/** Builds constructs in a fresh test chart and returns the synthesized objects. */
export function synthChart(build: (chart: Chart) => void): any[] {
  const chart = Testing.chart();
  build(chart);
  return Testing.synth(chart);
}

/** The one object of `kind` (and `name`, when given); fails the test otherwise. */
export function only(objects: any[], kind: string, name?: string): any {
  const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
}

/** Every YAML document under `dir`, with the file it came from. */
export function readManifests(dir: string): Array<{ file: string; object: any }> {
  const out: Array<{ file: string; object: any }> = [];
  for (const file of listFiles(dir).filter(f => f.endsWith('.yaml'))) {
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8'))) {
      if (doc.contents !== null) out.push({ file: path.relative(dir, file), object: doc.toJS() });
    }
  }
  return out;
}

/** Every file under `dir`, sorted, recursively. */
export function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap(e => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

/** The container of a pod spec named `name`. */
export function container(podSpec: any, name: string): any {
  const c = podSpec.containers.find((x: any) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** Every file under `dir` (relative path -> content), for comparing whole trees. */
export function snapshotTree(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map(f => [path.relative(dir, f), fs.readFileSync(f, 'utf-8')]));
}

/**
 * A fresh directory `dir` holding a copy of each tree (name in `dir` -> the
 * directory copied), for a synth that must leave them as they were.
 * @returns the snapshot of `dir` before the synth
 */
export function copyTrees(dir: string, trees: Record<string, string>): Record<string, string> {
  for (const [name, source] of Object.entries(trees)) fs.cpSync(source, path.join(dir, name), { recursive: true });
  return snapshotTree(dir);
}

/** The staging and set-aside paths a synth left in `dir` (none, after a clean synth or failure). */
export function synthLeftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter(f => /\.staging-|\.old-/.test(f));
}
