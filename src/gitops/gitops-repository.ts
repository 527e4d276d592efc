import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { ApplicationsChart, BootstrapChart } from './argocd-charts';
import { HelmChartOptions, renderHelmChart } from './helm-chart';
import { outOfBandSecrets } from './out-of-band-secrets';
import { GitOpsPlatform, PLATFORM_DIRECTORY, PlatformApplication } from './platform';
import { replacePaths, StagedPath } from './replace-paths';
import { renderTankaProject, resolveTankaProject, TankaEnvironmentSpec, TankaProjectOptions } from './tanka-project';
import { writeYamlFile } from './yaml';
import { FleetClusters } from '../argocd/application-set';
import { IN_CLUSTER } from '../argocd/sources';
import { isDnsLabel } from '../common/checks';
import { DEFAULT_ENVIRONMENT_LABEL } from '../common/labels';
import { checkUniqueObjects } from '../common/unique-objects';
import { ValidationError } from '../common/validation-error';
import { DEFAULT_IMAGE_LOCK_FILE, ImageLock, isImageName } from '../images/image-lock';

/** One environment of a {@link GitOpsRepository}: a directory, a namespace and an Argo CD Application. */
export interface GitOpsEnvironment<Settings> {
  /**
   * Environment name: its directory `<outdir>/<name>/`, its Application
   * `<repository name>-<name>` and the value of the environment label.
   * A lower-case DNS label other than `apps` and `bootstrap`.
   */
  readonly name: string;
  /** Namespace everything of the environment is deployed to. */
  readonly namespace: string;
  /**
   * API server of the cluster the environment is deployed to. Not allowed
   * with the repository's `clusters`, which decide that instead.
   * @default 'https://kubernetes.default.svc' (the cluster Argo CD runs in)
   */
  readonly server?: string;
  /** What differs between environments; handed to the stack builder. */
  readonly settings: Settings;
}

/**
 * Builds one environment's objects into `chart`, whose namespace and
 * environment label are already set. Images come from `lock`, so the image
 * build can re-synthesize with a freshly pinned digest.
 */
export type EnvironmentStackBuilder<Settings> = (chart: Chart, environment: GitOpsEnvironment<Settings>, lock: ImageLock) => void;

/** Props of {@link GitOpsRepository}. */
export interface GitOpsRepositoryProps<Settings> {
  /**
   * What is deployed: names the AppProject, prefixes every Application
   * (`<name>-<environment>`, root `<name>-root`) and names the Helm chart.
   */
  readonly name: string;
  /** Git URL Argo CD clones this repository from. */
  readonly repoUrl: string;
  /**
   * Branch, tag or commit Argo CD syncs.
   * @default 'main'
   */
  readonly targetRevision?: string;
  /**
   * Where the synthesized tree is committed, relative to the repository root:
   * the Applications' source paths start with it.
   * @default 'dist'
   */
  readonly manifestsPath?: string;
  /**
   * Namespace Argo CD runs in, where the AppProject and Applications live.
   * @default 'argocd'
   */
  readonly argoCdNamespace?: string;
  /**
   * Description of the AppProject.
   * @default - "<name> in every environment"
   */
  readonly description?: string;
  /** The environments, in the order they are synthesized and listed. */
  readonly environments: ReadonlyArray<GitOpsEnvironment<Settings>>;
  /** Builds one environment's stack. */
  readonly stack: EnvironmentStackBuilder<Settings>;
  /**
   * Label put on every object of an environment, valued with its name.
   * @default 'acme.io/environment'
   */
  readonly environmentLabel?: string;
  /**
   * Deploy each environment to every cluster these select, through one
   * ApplicationSet named after the repository that generates
   * `<name>-<environment>-<cluster>` Applications, instead of one Application
   * per environment to its `server`.
   * @default - one Application per environment
   */
  readonly clusters?: FleetClusters;
  /**
   * What every environment needs first (such as the Sealed Secrets
   * controller: `sealedSecretsPlatform()`), written to `<outdir>/platform/`
   * and synced by its own Application before the environments.
   * @default - no platform part
   */
  readonly platform?: GitOpsPlatform;
  /**
   * Also write the environments as one Helm chart.
   * @default - no Helm chart
   */
  readonly helmChart?: HelmChartOptions;
  /**
   * The images built from this repository's own sources, by their name in the
   * image lock: what `cdk8s-gitops build-image` builds when the command line
   * names no `--name` or `--context`.
   * @default - none: `build-image` needs `--name` and `--context`
   */
  readonly imageSources?: Readonly<Record<string, ImageSource>>;
  /**
   * Also write the environments as a Tanka project (`tanka/` beside the
   * tree), whose `tk show`/`tk export` render exactly the objects of each
   * environment's directory.
   * @default - no Tanka project
   */
  readonly tanka?: TankaProjectOptions;
}

/** Where an image of {@link GitOpsRepositoryProps.imageSources} is built from. */
export interface ImageSource {
  /** Build context, relative to the repository root: the Go module for ko, the Dockerfile's context otherwise. */
  readonly context: string;
  /**
   * Dockerfile, relative to the repository root (Dockerfile builders only).
   * @default '<context>/Dockerfile'
   */
  readonly dockerfile?: string;
}

/** Options of {@link GitOpsRepository.synth}. */
export interface GitOpsSynthOptions {
  /**
   * Directory the tree is written to; replaced as a whole, and only when
   * everything synthesized.
   * @default 'dist'
   */
  readonly outdir?: string;
  /**
   * Image digests the stacks pin.
   * @default - read from `images.lock.json`
   */
  readonly lock?: ImageLock;
  /**
   * Directory the Helm chart is written to, replaced like `outdir`.
   * @default - `helm/<chart name>` when the repository has a Helm chart
   */
  readonly helmDir?: string;
  /**
   * Directory the Tanka project is written to, replaced like `outdir`.
   * @default - the project's `directory` beside `outdir`, when the repository has a Tanka project
   */
  readonly tankaDir?: string;
  /**
   * Receives one progress line per written directory.
   * @default - no progress output
   */
  readonly log?: (line: string) => void;
}

const REPOSITORY_SYMBOL = Symbol.for('@acme/cdk8s-go-postgres.GitOpsRepository');

/** Directories of the tree that hold Argo CD objects rather than an environment. */
const RESERVED_DIRECTORIES: readonly string[] = ['apps', 'bootstrap', PLATFORM_DIRECTORY];

/**
 * The synthesized side of a GitOps repository synced by Argo CD:
 *
 * - `<outdir>/<environment>/`: one environment's objects, from the stack builder;
 * - `<outdir>/apps/`: the AppProject (only this repository, only the
 *   environments' namespaces; the Secrets they use but leave out of git are
 *   not reported as orphaned) and one Application per environment, or with
 *   `clusters` one ApplicationSet for all of them;
 * - `<outdir>/bootstrap/`: the app-of-apps root, applied once by hand;
 * - optionally a Helm chart of all environments, selected by `.Values.environment`;
 * - optionally a Tanka project with one environment per environment (see {@link TankaProjectOptions}).
 *
 * Every construct is built, and so validated, before anything is written;
 * the output is staged beside its targets and swapped in together, so a
 * failure leaves the previous tree untouched. Output is deterministic.
 */
export class GitOpsRepository<Settings> {
  /**
   * Whether `x` is a GitOpsRepository, also one made by another copy of this
   * library (the CLI finds the repository a user's module exports with it).
   */
  public static isGitOpsRepository(x: unknown): x is GitOpsRepository<unknown> {
    return typeof x === 'object' && x !== null && REPOSITORY_SYMBOL in x;
  }

  /** What is deployed; prefixes the Applications. */
  public readonly name: string;
  /** Name of the Helm chart, when there is one. */
  public readonly helmChartName?: string;
  /** Where the synthesized tree is committed, relative to the repository root. */
  public readonly manifestsPath: string;
  /** The images built from the repository's own sources, by lock name. */
  public readonly imageSources: Readonly<Record<string, ImageSource>>;
  /** Directory of the Tanka project beside the tree, when there is one. */
  public readonly tankaDirectory?: string;
  private readonly tankaSpecs?: TankaEnvironmentSpec[];

  constructor(private readonly props: GitOpsRepositoryProps<Settings>) {
    Object.defineProperty(this, REPOSITORY_SYMBOL, { value: true });
    this.name = props.name;
    this.manifestsPath = props.manifestsPath ?? 'dist';
    const fail = (message: string): never => this.fail(message);
    if (!isDnsLabel(props.name, 50)) {
      fail(`name "${props.name}" is not a DNS label of at most 50 characters: it prefixes every Application name`);
    }
    if (props.environments.length === 0) fail('environments is empty: list at least one environment');
    const seen = new Set<string>();
    props.environments.forEach((env, i) => {
      const at = `environments[${i}]`;
      if (!isDnsLabel(env.name) || RESERVED_DIRECTORIES.includes(env.name)) {
        fail(`${at}: name "${env.name}" must be a lower-case DNS label other than ${RESERVED_DIRECTORIES.join(' and ')}: it names the environment's directory`);
      }
      if (`${props.name}-${env.name}`.length > 63) {
        fail(`${at}: name "${env.name}" makes the Application name "${props.name}-${env.name}" longer than 63 characters; shorten it`);
      }
      if (props.clusters && env.server !== undefined) {
        fail(`${at}: server "${env.server}" is set, but the repository's clusters decide where environments go: remove one of the two`);
      }
      const server = env.server ?? IN_CLUSTER;
      const unique = [[`name ${env.name}`, `name "${env.name}"`]];
      // A fleet's cluster runs one environment, so environments may share a namespace name.
      if (!props.clusters) unique.push([`namespace ${server} ${env.namespace}`, `namespace "${env.namespace}"${server === IN_CLUSTER ? '' : ` on ${server}`}`]);
      for (const [key, what] of unique) {
        if (seen.has(key)) fail(`${at}: ${what} is used by an earlier environment: each environment needs its own directory and namespace`);
        seen.add(key);
      }
    });
    this.imageSources = { ...props.imageSources };
    for (const [name, source] of Object.entries(this.imageSources)) {
      if (!isImageName(name)) fail(`imageSources: "${name}" is not a valid image name: use lower-case letters, digits, '.', '_' and '-'`);
      if (path.isAbsolute(source.context) || source.context.split(/[\\/]/).includes('..')) {
        fail(`imageSources.${name}.context "${source.context}" must be a path inside the repository, relative to its root`);
      }
    }
    if (props.platform && props.clusters) {
      fail('platform and clusters are both set: a fleet\'s platform part is not generated yet; install the platform on each cluster, or drop clusters');
    }
    if (props.helmChart) {
      this.helmChartName = props.helmChart.name ?? props.name;
      const defaultEnvironment = props.helmChart.defaultEnvironment;
      if (defaultEnvironment !== undefined && !props.environments.some(e => e.name === defaultEnvironment)) {
        fail(`helmChart.defaultEnvironment "${defaultEnvironment}" is not one of the environments (${props.environments.map(e => e.name).join(', ')})`);
      }
    }
    if (props.tanka) {
      const tanka = resolveTankaProject(props.tanka, props.environments, this.manifestsPath, fail);
      this.tankaDirectory = tanka.directory;
      this.tankaSpecs = tanka.specs;
    }
  }

  /**
   * Where the Tanka project goes when the tree goes to `outdir`: its
   * `directory` beside `outdir` (so `dist` -> `tanka`).
   * @returns undefined when the repository has no Tanka project
   */
  public tankaDir(outdir = 'dist'): string | undefined {
    return this.tankaDirectory === undefined ? undefined : path.join(path.dirname(outdir), this.tankaDirectory);
  }

  /** The environments, in order. */
  public get environments(): ReadonlyArray<GitOpsEnvironment<Settings>> {
    return this.props.environments;
  }

  /** The environments' names, in order. */
  public get environmentNames(): string[] {
    return this.props.environments.map(e => e.name);
  }

  /**
   * Synthesizes the whole tree (and the Helm chart) and puts it in place.
   * @throws ValidationError (or the error of a stack) with nothing written
   */
  public synth(options: GitOpsSynthOptions = {}): void {
    const staged = this.stage(options);
    try {
      staged.install();
    } finally {
      staged.discard();
    }
  }

  /**
   * Writes everything {@link synth} would into staging paths beside the
   * targets, for a caller that installs them together with files of its own
   * (the image build installs its new lock with them). The caller must call
   * `install` and/or `discard`.
   * @internal
   */
  public stage(options: GitOpsSynthOptions = {}): StagedOutput {
    const outdir = options.outdir ?? 'dist';
    const lock = options.lock ?? ImageLock.fromFile(DEFAULT_IMAGE_LOCK_FILE);
    const log = options.log ?? (() => undefined);
    const files = this.build(lock);

    const staged = new StagedOutput([{ staged: stagingPath(outdir), target: path.resolve(outdir) }]);
    try {
      staged.discard();
      files.forEach(({ dir, file, objects }, i) => {
        const target = path.join(staged.paths[0].staged, dir);
        fs.mkdirSync(target, { recursive: true });
        writeYamlFile(path.join(target, file), objects);
        log(`[synth ${i + 1}/${files.length}] ${path.join(outdir, dir)}: ${objects.length} objects`);
      });
      if (this.props.helmChart) {
        const helmDir = options.helmDir ?? path.join('helm', this.helmChartName!);
        staged.add({ staged: stagingPath(helmDir), target: path.resolve(helmDir) });
        const environments = this.props.environments.map((env, i) => ({ name: env.name, namespace: env.namespace, objects: files[i].objects }));
        writeFiles(staged.paths[1].staged, renderHelmChart(this.helmChartName!, environments, this.props.helmChart));
        log(`[synth] ${helmDir}: Helm chart of ${this.environmentNames.join(', ')}`);
      }
      if (this.tankaSpecs) {
        const tankaDir = options.tankaDir ?? this.tankaDir(outdir)!;
        const tanka = { staged: stagingPath(tankaDir), target: path.resolve(tankaDir) };
        staged.add(tanka);
        const environments = this.props.environments.map((env, i) => ({ name: env.name, spec: this.tankaSpecs![i], objects: files[i].objects }));
        writeFiles(tanka.staged, renderTankaProject(this.name, environments, message => this.fail(message)));
        log(`[synth] ${tankaDir}: Tanka environments ${this.environmentNames.join(', ')}`);
      }
    } catch (e) {
      staged.discard();
      throw e;
    }
    return staged;
  }

  /** Throws the ValidationError of this repository. */
  private fail(message: string): never {
    throw new ValidationError(`GitOpsRepository ${this.name}`, message);
  }

  /** Builds every chart in memory, in output order: environments, apps, bootstrap. */
  private build(lock: ImageLock): Array<{ dir: string; file: string; objects: any[] }> {
    const props = this.props;
    const argoCd = {
      name: props.name,
      repoUrl: props.repoUrl,
      targetRevision: props.targetRevision ?? 'main',
      manifestsPath: this.manifestsPath,
      argoCdNamespace: props.argoCdNamespace ?? 'argocd',
    };
    const synthChart = (dir: string, build: (app: App) => Chart) => {
      const app = new App();
      const chart = build(app);
      const objects = chart.toJson();
      checkUniqueObjects(app);
      return { dir, file: `${chart.node.id}.k8s.yaml`, objects };
    };
    const environments = props.environments.map(env => synthChart(env.name, app => {
      const chart = new Chart(app, `${props.name}-${env.name}`, {
        namespace: env.namespace,
        labels: { [props.environmentLabel ?? DEFAULT_ENVIRONMENT_LABEL]: env.name },
        disableResourceNameHashes: true,
      });
      props.stack(chart, env, lock);
      return chart;
    }));
    const platform = props.platform;
    return [
      ...environments,
      ...(platform ? [synthChart(PLATFORM_DIRECTORY, app => {
        const chart = new Chart(app, PLATFORM_DIRECTORY, { disableResourceNameHashes: true });
        platform.stack(chart, lock);
        return chart;
      })] : []),
      synthChart('apps', app => {
        const chart = new ApplicationsChart(app, 'applications', {
          ...argoCd,
          description: props.description ?? `${props.name} in every environment`,
          environments: props.environments,
          outOfBandSecrets: [...new Set(environments.flatMap(e => outOfBandSecrets(e.objects)))].sort(),
          clusters: props.clusters,
        });
        if (platform) new PlatformApplication(chart, PLATFORM_DIRECTORY, { ...argoCd, platform });
        return chart;
      }),
      synthChart('bootstrap', app => new BootstrapChart(app, 'root', argoCd)),
    ];
  }
}

/**
 * Output written beside its targets, not yet in place. `install` swaps all
 * of it in together (or none of it); `discard` removes what was not installed.
 * @internal
 */
export class StagedOutput {
  private readonly staged: StagedPath[];

  constructor(paths: StagedPath[]) {
    this.staged = [...paths];
  }

  /** The staged paths and their targets. */
  public get paths(): readonly StagedPath[] {
    return this.staged;
  }

  /** Adds a staged path, to be installed with the others. */
  public add(staged: StagedPath): void {
    this.staged.push(staged);
  }

  /** Moves every staged path, and `extra` ones, over their targets together. */
  public install(extra: StagedPath[] = []): void {
    replacePaths([...this.staged, ...extra]);
  }

  /** Deletes staged paths that were not installed. */
  public discard(): void {
    for (const s of this.staged) fs.rmSync(s.staged, { recursive: true, force: true });
  }
}

/** A sibling of `target`, so the final rename stays on one filesystem. */
function stagingPath(target: string): string {
  return `${path.resolve(target)}.staging-${process.pid}`;
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
}
