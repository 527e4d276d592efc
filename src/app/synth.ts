import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import { EnvironmentConfig } from './environments';
import { ApplicationsChart, BootstrapChart } from './gitops-chart';
import { EnvironmentManifests, writeHelmChart } from './helm-chart';
import { TodoChart } from './todo-chart';
import { checkUniqueObjects, ImageLock } from '..';

/** Options of {@link synthesizeAll}. */
export interface SynthesizeOptions {
  /** Directory to write; replaced as a whole only when everything synthesized. */
  readonly outdir: string;
  /** Environments to synthesize. */
  readonly environments: EnvironmentConfig[];
  /** The image lock. */
  readonly lock: ImageLock;
  /**
   * Directory to write the Helm chart of the environments to, replaced like `outdir`.
   * @default - no chart
   */
  readonly helmDir?: string;
  /** Progress lines go here. @default - nothing */
  readonly log?: (line: string) => void;
}

/**
 * Synthesizes every environment, the Argo CD Applications and the root app.
 *
 * All constructs are built (and so validated) before anything is written,
 * the YAML goes to a staging directory next to `outdir`, and `outdir` is
 * swapped for it only at the end: a failure leaves `outdir` as it was.
 */
export function synthesizeAll(options: SynthesizeOptions): string[] {
  const log = options.log ?? (() => undefined);
  const outdir = path.resolve(options.outdir);
  const staging = `${outdir}.staging-${process.pid}`;
  const apps: Array<{ dir: string; app: App }> = [];
  const manifests: EnvironmentManifests[] = [];
  const addApp = (dir: string, build: (app: App) => Chart) => {
    const app = new App({ outdir: path.join(staging, dir), yamlOutputType: YamlOutputType.FILE_PER_CHART });
    build(app);
    checkUniqueObjects(app);
    apps.push({ dir, app });
  };
  for (const environment of options.environments) {
    addApp(environment.name, app => {
      const chart = new TodoChart(app, `todo-${environment.name}`, { environment, lock: options.lock });
      manifests.push({ name: environment.name, namespace: environment.namespace, objects: chart.toJson() });
      return chart;
    });
  }
  addApp('apps', app => new ApplicationsChart(app, 'applications', { environments: options.environments }));
  addApp('bootstrap', app => new BootstrapChart(app, 'root'));

  const helmDir = options.helmDir ? path.resolve(options.helmDir) : undefined;
  const helmStaging = `${helmDir}.staging-${process.pid}`;
  const staged = [staging, ...(helmDir ? [helmStaging] : [])];
  staged.forEach(d => fs.rmSync(d, { recursive: true, force: true }));
  try {
    apps.forEach(({ dir, app }, i) => {
      app.synth();
      log(`[synth ${i + 1}/${apps.length}] ${path.join(options.outdir, dir)}: ${countObjects(app)} objects`);
    });
    if (helmDir) {
      writeHelmChart(helmStaging, manifests);
      log(`[synth] ${options.helmDir}: Helm chart of ${manifests.map(m => m.name).join(', ')}`);
    }
    swapDirectory(staging, outdir);
    if (helmDir) swapDirectory(helmStaging, helmDir);
  } finally {
    staged.forEach(d => fs.rmSync(d, { recursive: true, force: true }));
  }
  return apps.map(a => a.dir);
}

function swapDirectory(fresh: string, target: string): void {
  const old = `${target}.old-${process.pid}`;
  const hadTarget = fs.existsSync(target);
  if (hadTarget) fs.renameSync(target, old);
  fs.renameSync(fresh, target);
  if (hadTarget) fs.rmSync(old, { recursive: true, force: true });
}

function countObjects(app: App): number {
  return app.node.findAll().filter(c => c instanceof ApiObject).length;
}
