import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ManifestObject, ManifestTree } from './manifest-tree';

/** The field manager Argo CD's server-side apply uses, so the dry run predicts what Argo CD would do. */
export const ARGO_CD_FIELD_MANAGER = 'argocd-controller';

/** Metadata the API server writes that says nothing about the desired state. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];
const SERVER_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** kubectl's arguments that read the live objects of the files it is given (`-f DIR -o json` follow). */
const LIVE_ARGS = ['get', '--ignore-not-found'];
/** kubectl's arguments that ask what a server-side apply as Argo CD would store, changing nothing. */
const PREDICT_ARGS = ['apply', '--server-side', '--dry-run=server', `--field-manager=${ARGO_CD_FIELD_MANAGER}`, '--force-conflicts'];

/** The cluster side of a tree: what is there now, and what applying the tree would make of it. */
export interface LiveTrees {
  /** The objects of the tree as they are in the cluster now (absent ones left out). */
  readonly live: ManifestTree;
  /** The same objects as the API server would store them after a server-side apply (a dry run). */
  readonly predicted: ManifestTree;
}

/** The kubectl to run: `KUBECTL` of `env`, else `kubectl` from PATH. */
export function kubectlPath(env: NodeJS.ProcessEnv): string {
  return env.KUBECTL ?? 'kubectl';
}

/** The directories of a synthesized tree (`dev`, `apps`, ...), sorted. */
export function treeDirectories(dir: string): string[] {
  return fs.readdirSync(dir).filter(d => fs.statSync(path.join(dir, d)).isDirectory()).sort();
}

/**
 * Asks the cluster of the user's kubeconfig, with `kubectl`, for the live
 * objects of the tree in `dir` and for the result of applying it server-side
 * as Argo CD does (`--dry-run=server`, as `kubectl diff --server-side`);
 * nothing is changed in the cluster.
 * @throws Error with kubectl's message when the cluster refuses (no access, unknown kind, invalid object)
 */
export function readLiveTrees(dir: string, env: NodeJS.ProcessEnv): LiveTrees {
  const kubectl = kubectlPath(env);
  const live: ManifestObject[] = [];
  const predicted: ManifestObject[] = [];
  for (const directory of treeDirectories(dir)) {
    const run = (args: readonly string[]) => {
      const r = spawnSync(kubectl, [...args, '-f', path.join(dir, directory), '-o', 'json'], { env, encoding: 'utf-8', maxBuffer: 1024 * 1024 * 1024 });
      if (r.error) throw new Error(`cannot run ${kubectl}: ${r.error.message} (set KUBECTL to its path)`);
      if (r.status !== 0) throw new Error(`kubectl ${args[0]} of ${directory}/ failed: ${r.stderr.trim()}`);
      return kubectlObjects(directory, r.stdout);
    };
    live.push(...run(LIVE_ARGS));
    predicted.push(...run(PREDICT_ARGS));
  }
  return { live: new ManifestTree(live), predicted: new ManifestTree(predicted) };
}

/**
 * What a server-side apply of one directory of the tree in `dir` would store
 * (the dry run of {@link readLiveTrees}, for one directory, without blocking:
 * the live view runs it while it serves pages).
 * @throws Error with kubectl's message when the cluster refuses
 */
export async function predictDirectory(dir: string, directory: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<ManifestObject[]> {
  const out = await runKubectl([...PREDICT_ARGS, '-f', path.join(dir, directory), '-o', 'json'], env, signal);
  return kubectlObjects(directory, out);
}

/**
 * Runs kubectl to completion without blocking and returns its standard output.
 * The child is killed when `signal` aborts.
 * @throws Error with kubectl's message when it fails
 */
export function runKubectl(args: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  const kubectl = kubectlPath(env);
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', e => reject(e.name === 'AbortError' ? e : new Error(`cannot run ${kubectl}: ${e.message} (set KUBECTL to its path)`)));
    child.on('close', code => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf-8'));
      else reject(new Error(`kubectl ${args[0]} failed: ${Buffer.concat(err).toString('utf-8').trim() || `exit ${code}`}`));
    });
  });
}

/** The objects of kubectl's `-o json` output (one object or a List), server fields removed. */
function kubectlObjects(directory: string, stdout: string): ManifestObject[] {
  const out = JSON.parse(stdout || '{"items":[]}');
  return (out.kind === 'List' ? out.items : [out]).map((object: any) => ({ directory, file: directory, object: withoutServerFields(object) }));
}

/**
 * `object` without what the API server writes and git never holds (status,
 * managedFields, resourceVersion, ...), so a live object compares with its
 * manifest field by field.
 */
export function withoutServerFields(object: any): any {
  const copy = structuredClone(object);
  delete copy.status;
  for (const field of SERVER_METADATA) delete copy.metadata?.[field];
  for (const annotation of SERVER_ANNOTATIONS) delete copy.metadata?.annotations?.[annotation];
  if (copy.metadata?.annotations && Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  return copy;
}
