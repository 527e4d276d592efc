import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import { EnvironmentConfig } from './environments';
import { ApplicationsChart, BootstrapChart } from './gitops-chart';
import { EnvironmentManifests, writeHelmChart } from './helm-chart';
import { TodoChart } from './todo-chart';
import { checkUniqueObjects, ImageLock } from '..';
import { replacePaths, StagedPath } from '../common/replace-paths';

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
  /**
   * Progress lines go here.
   * @default - nothing
   */
  readonly log?: (line: string) => void;
}

/**
 * Synthesizes every environment, the Argo CD Applications, the root app and
 * optionally the Helm chart, and puts them in place together.
 *
 * All constructs are built (and so validated) before anything is written and
 * the output is staged next to its target: a failure leaves the targets as they were.
 */
export function synthesizeAll(options: SynthesizeOptions): void {
  const staged = stageAll(options);
  try {
    replacePaths(staged);
  } finally {
    removeStaged(staged);
  }
}

/**
 * Writes everything {@link synthesizeAll} would into staging paths beside the
 * targets and returns them, for a caller that installs them together with
 * other outputs (the image build installs its new lock with them).
 * The caller must install or remove them.
 */
export function stageAll(options: SynthesizeOptions): StagedPath[] {
  const log = options.log ?? (() => undefined);
  const outdir = path.resolve(options.outdir);
  const staged: StagedPath[] = [{ staged: `${outdir}.staging-${process.pid}`, target: outdir }];
  const apps: Array<{ dir: string; app: App }> = [];
  const manifests: EnvironmentManifests[] = [];
  checkEnvironments(options.environments);
  const addApp = (dir: string, build: (app: App) => Chart) => {
    const app = new App({ outdir: path.join(staged[0].staged, dir), yamlOutputType: YamlOutputType.FILE_PER_CHART });
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
  if (options.helmDir) {
    const helmDir = path.resolve(options.helmDir);
    staged.push({ staged: `${helmDir}.staging-${process.pid}`, target: helmDir });
  }

  removeStaged(staged);
  try {
    apps.forEach(({ dir, app }, i) => {
      app.synth();
      log(`[synth ${i + 1}/${apps.length}] ${path.join(options.outdir, dir)}: ${countObjects(app)} objects`);
    });
    if (options.helmDir) {
      writeHelmChart(staged[1].staged, manifests);
      log(`[synth] ${options.helmDir}: Helm chart of ${manifests.map(m => m.name).join(', ')}`);
    }
  } catch (e) {
    removeStaged(staged);
    throw e;
  }
  return staged;
}

/** Directories of dist/ that are not environments. */
const RESERVED_DIRS = ['apps', 'bootstrap'];

/** Environments become directories and namespaces, so each must be unique and a plain name. */
function checkEnvironments(environments: EnvironmentConfig[]): void {
  const seen = new Set<string>();
  for (const env of environments) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(env.name) || RESERVED_DIRS.includes(env.name)) {
      throw new Error(`environment name "${env.name}" must be a lower-case DNS label other than ${RESERVED_DIRS.join(' and ')}: it names its dist/ directory`);
    }
    for (const key of [`name ${env.name}`, `namespace ${env.namespace}`]) {
      if (seen.has(key)) throw new Error(`environment ${key} is used twice: each environment needs its own directory and namespace`);
      seen.add(key);
    }
  }
}

/** Deletes staged paths that were not installed. */
export function removeStaged(staged: StagedPath[]): void {
  for (const s of staged) fs.rmSync(s.staged, { recursive: true, force: true });
}

function countObjects(app: App): number {
  return app.node.findAll().filter(c => c instanceof ApiObject).length;
}
