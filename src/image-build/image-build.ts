import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageBuildError } from './build-error';
import { BUILDER_NAMES, BuilderName, BuildRequest, ImageBuilder } from './builder';
import { builderFor } from './builders';
import { findExecutable, formatCommand, runCommand, terminateRunningCommands, ToolIo } from './command';
import { DEFAULT_KANIKO_EXECUTOR } from './kaniko-builder';
import { isLoopbackRegistry, pingRegistry, verifyPushed } from './registry';
import { defaultTag, sourceState } from './source-commit';
import { GitOpsRepository, StagedOutput } from '../gitops/gitops-repository';
import { DEFAULT_IMAGE_LOCK_FILE, IMAGE_LOCK_VERSION, ImageLock, ImageLockDocument, ImageLockEntry, isImageName } from '../images/image-lock';
import { repositoryProblem, tagProblem } from '../images/reference';

/** What to build, where to push it and which files to update. */
export interface ImageBuildOptions {
  /** The tool that builds and pushes. */
  readonly builder: BuilderName;
  /** Repository to push to, without tag or digest, e.g. `ghcr.io/acme/todo`. */
  readonly repository: string;
  /** Name of the image in the lock. */
  readonly name: string;
  /** Build context: the Go module for ko, the Dockerfile context otherwise. */
  readonly context: string;
  /**
   * Dockerfile (kaniko, buildah and docker only).
   * @default '<context>/Dockerfile'
   */
  readonly dockerfile?: string;
  /**
   * Tag pushed along with the digest.
   * @default - `sha-<commit>` (plus `-dirty` for uncommitted changes), or `latest` outside git
   */
  readonly tag?: string;
  /**
   * Dockerfile `ARG` values (kaniko, buildah, docker); for buildpacks, the
   * build-time environment of the buildpacks (their platform `env/`).
   * @default - none
   */
  readonly buildArgs?: Record<string, string>;
  /**
   * The lock file to update.
   * @default 'images.lock.json'
   */
  readonly lockFile?: string;
  /**
   * Directory of the synthesized manifests.
   * @default 'dist'
   */
  readonly outdir?: string;
  /**
   * Directory of the generated Helm chart, which pins the same digest.
   * @default - `helm/<chart name>` of the repository
   */
  readonly helmDir?: string;
  /**
   * Directory of the generated Tanka project, which pins the same digest.
   * @default - the repository's Tanka directory beside `outdir`
   */
  readonly tankaDir?: string;
  /**
   * Plain HTTP / no TLS verification towards the registry.
   * @default - true for a registry on localhost/127.0.0.1, false otherwise
   */
  readonly insecure?: boolean;
}

/** The surroundings of a build; the defaults are the real process's. */
export interface ImageBuildRuntime {
  /**
   * Environment of the build tools (PATH finds them).
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Receives progress lines.
   * @default - written to stderr
   */
  readonly log?: (line: string) => void;
  /**
   * Receives the build tools' own output.
   * @default - written to stderr
   */
  readonly output?: (chunk: string) => void;
  /** The GitOps tree re-synthesized with the new digest. */
  readonly repository: GitOpsRepository<any>;
  /**
   * Aborting stops the running build tool and fails the current step, with
   * the usual cleanup; no later step starts.
   * @default - not abortable
   */
  readonly signal?: AbortSignal;
}

/** A successful build. */
export interface ImageBuildResult {
  /** `repository@sha256:...` now pinned in the lock and the manifests. */
  readonly reference: string;
  /** The lock entry that was written. */
  readonly entry: ImageLockEntry;
}

const TOTAL_STEPS = 5;

/** `p` relative to the working directory when it is below it, else absolute: short but unambiguous. */
function display(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
}
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Builds and pushes the image, checks the registry has the digest, then
 * synthesizes the manifests with a lock that pins it, and only then replaces
 * the lock file and the manifests directory.
 *
 * @throws ImageBuildError naming the step that failed; the lock file and the
 *   manifests directory are then exactly as they were
 */
export async function buildImage(options: ImageBuildOptions, runtime: ImageBuildRuntime): Promise<ImageBuildResult> {
  const env = runtime.env ?? process.env;
  const log = runtime.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const io: ToolIo = { env, stderr: runtime.output ?? (chunk => process.stderr.write(chunk)) };
  const lockFile = path.resolve(options.lockFile ?? DEFAULT_IMAGE_LOCK_FILE);
  const outdir = path.resolve(options.outdir ?? 'dist');
  // Siblings of their targets, so the final renames stay on one filesystem.
  const stagedLock = path.join(path.dirname(lockFile), `.${path.basename(lockFile)}.build-${process.pid}.tmp`);
  const helmDir = options.helmDir ?? (runtime.repository.helmChartName ? path.join('helm', runtime.repository.helmChartName) : undefined);
  const tankaDir = options.tankaDir ?? runtime.repository.tankaDir(outdir);
  let staged: StagedOutput | undefined;
  let scratchDir: string | undefined;

  let step = 0;
  let title = 'start';
  const checkInterrupted = () => {
    if (runtime.signal?.aborted) throw new Error(`interrupted (${String(runtime.signal.reason)})`);
  };
  const stopTools = () => terminateRunningCommands('SIGTERM');
  runtime.signal?.addEventListener('abort', stopTools);
  const begin = (what: string) => {
    checkInterrupted();
    step += 1;
    title = what;
    log(`[build ${step}/${TOTAL_STEPS}] ${what}`);
  };

  try {
    begin('preflight: inputs, lock, tools, registry');
    const builder = checkBuilder(options.builder);
    scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-build-'));
    const { request, name, lock, commit } = await preflight(options, builder, lockFile, outdir, scratchDir, env, log);

    begin(builder.title(request, env));
    builder.prepare?.(request, env);
    for (const command of builder.commands(request, env)) {
      checkInterrupted();
      log(`  $ ${formatCommand(command)}`);
      await runCommand(command, io);
    }
    const pushed = builder.result(request);

    begin(`verify ${pushed.repository}@${pushed.digest} is in the registry`);
    if (pushed.repository !== request.repository) {
      throw new Error(`${builder.name} pushed to ${pushed.repository}, but --repository is ${request.repository}`);
    }
    const how = await verifyPushed(pushed.repository, pushed.digest, request.insecure, io);
    log(`  found (${how})`);

    begin(`synth ${display(outdir)} with the new lock`);
    const entry: ImageLockEntry = {
      repository: pushed.repository,
      digest: pushed.digest,
      builder: builder.name,
      ...(pushed.tag !== undefined ? { tag: pushed.tag } : {}),
      ...(commit !== undefined ? { sourceCommit: commit } : {}),
    };
    const document: ImageLockDocument = { version: IMAGE_LOCK_VERSION, images: { ...lock.images, [name]: entry } };
    ImageLock.write(stagedLock, document);
    staged = runtime.repository.stage({
      outdir,
      helmDir,
      tankaDir,
      lock: ImageLock.fromFile(stagedLock),
      log: line => log(`  ${line}`),
    });

    begin(`install ${[lockFile, outdir, ...(helmDir ? [helmDir] : []), ...(tankaDir ? [tankaDir] : [])].map(display).join(', ')}`);
    staged.install([{ staged: stagedLock, target: lockFile }]);
    return { reference: `${entry.repository}@${entry.digest}`, entry };
  } catch (e) {
    const message = (e as Error).message;
    const cause = runtime.signal?.aborted && !message.startsWith('interrupted') ? `interrupted (${String(runtime.signal.reason)}): ${message}` : message;
    throw new ImageBuildError(step, TOTAL_STEPS, title, cause);
  } finally {
    runtime.signal?.removeEventListener('abort', stopTools);
    fs.rmSync(stagedLock, { force: true });
    staged?.discard();
    if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
  }
}

function checkBuilder(name: string): ImageBuilder {
  if (!(BUILDER_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown builder "${name}"; use one of ${BUILDER_NAMES.join(', ')}`);
  }
  return builderFor(name as BuilderName);
}

interface Plan {
  readonly request: BuildRequest;
  readonly name: string;
  readonly lock: ImageLockDocument;
  readonly commit?: string;
}

/** Every check that can fail before minutes are spent building. */
async function preflight(
  options: ImageBuildOptions, builder: ImageBuilder, lockFile: string, outdir: string, scratchDir: string,
  env: NodeJS.ProcessEnv, log: (line: string) => void,
): Promise<Plan> {
  const repositoryError = repositoryProblem(options.repository);
  if (repositoryError) throw new Error(`--repository ${repositoryError}`);
  const name = options.name;
  if (!isImageName(name)) throw new Error(`--name "${name}" is not a valid image name (lower-case letters, digits, '.', '_', '-')`);

  const contextDir = path.resolve(options.context);
  if (!isDirectory(contextDir)) throw new Error(`build context ${contextDir} is not a directory`);
  const dockerfile = path.resolve(options.dockerfile ?? path.join(contextDir, 'Dockerfile'));
  const buildArgs = options.buildArgs ?? {};
  if (builder.usesDockerfile) {
    if (!fs.existsSync(dockerfile)) throw new Error(`Dockerfile ${dockerfile} does not exist`);
  } else if (options.dockerfile !== undefined) {
    throw new Error(`${builder.name} builds without a Dockerfile; drop --dockerfile`);
  }
  if (builder.acceptsBuildArgs ?? builder.usesDockerfile) {
    for (const arg of Object.keys(buildArgs)) {
      if (!ARG_NAME.test(arg)) throw new Error(`build argument name "${arg}" is invalid`);
    }
  } else if (Object.keys(buildArgs).length > 0) {
    throw new Error(`${builder.name} builds from the Go module and uses no Dockerfile; drop --build-arg`);
  }

  // Read the lock now: a corrupt lock must fail before the push, not after.
  const lock = ImageLock.fromFile(lockFile).contents;
  if (!isDirectory(path.dirname(outdir))) throw new Error(`the parent of --outdir ${outdir} does not exist`);

  for (const tool of builder.tools(env)) {
    if (!findExecutable(tool, env)) throw new Error(missingToolMessage(builder, tool));
  }
  builder.checkSettings?.(env);

  const source = sourceState(contextDir, env);
  const tag = options.tag ?? defaultTag(source);
  const tagError = tagProblem(tag);
  if (tagError) throw new Error(`--tag ${tagError}`);
  if (source.commit === undefined) log('  no git commit found for the context; the lock entry gets no sourceCommit');
  else if (source.dirty) log(`  ${contextDir} has uncommitted changes; the image is not exactly commit ${source.commit}`);

  const insecure = options.insecure ?? isLoopbackRegistry(options.repository);
  await pingRegistry(options.repository, insecure);

  return {
    request: { repository: options.repository, tag, contextDir, dockerfile, buildArgs, insecure, scratchDir },
    name,
    lock,
    commit: source.commit,
  };
}

function missingToolMessage(builder: ImageBuilder, tool: string): string {
  if (builder.name === 'kaniko') {
    return `kaniko executor ${tool} not found: kaniko runs inside its own image (gcr.io/kaniko-project/executor), `
      + `never on the host; set KANIKO_EXECUTOR if it lives elsewhere than ${DEFAULT_KANIKO_EXECUTOR}, `
      + 'or to a wrapper that runs the executor image in a container, or use --builder buildah';
  }
  if (builder.installHint) return builder.installHint(tool);
  return `${tool} not found on PATH; install ${tool} or use another --builder`;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
