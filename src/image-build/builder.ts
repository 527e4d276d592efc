import { CommandSpec } from './command';
import { PushedImage } from './image-reference';

/** The tools that can build and push the image. */
export type BuilderName = 'ko' | 'kaniko' | 'buildah' | 'docker' | 'buildpacks';

/** Every {@link BuilderName}, for argument checking and help text. */
export const BUILDER_NAMES: readonly BuilderName[] = ['ko', 'kaniko', 'buildah', 'docker', 'buildpacks'];

/** What to build and where to push it; paths are absolute. */
export interface BuildRequest {
  /** Repository to push to, without tag or digest. */
  readonly repository: string;
  /** Tag pushed along with the image (for humans; the lock pins the digest). */
  readonly tag: string;
  /** Build context (the Go module for ko). */
  readonly contextDir: string;
  /** Dockerfile (Dockerfile builders only). */
  readonly dockerfile: string;
  /** `ARG` values of Dockerfile builders; the build-time environment of buildpacks. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Talk plain HTTP / skip TLS verification (local registries). */
  readonly insecure: boolean;
  /** Private directory for the files the tool writes its digest to. */
  readonly scratchDir: string;
}

/**
 * One way of building the image. Split into pure argument construction and
 * result parsing so both can be tested without running the tool.
 */
export interface ImageBuilder {
  /** The builder's name, recorded in the lock as `builder`. */
  readonly name: BuilderName;
  /** Whether `--build-arg` and `--dockerfile` mean anything to this builder. */
  readonly usesDockerfile: boolean;
  /**
   * Whether `--build-arg` means something without a Dockerfile (buildpacks
   * read them as their platform environment).
   * @default - same as usesDockerfile
   */
  readonly acceptsBuildArgs?: boolean;
  /** Executables (names on PATH or paths) that must exist before building. */
  tools(env: NodeJS.ProcessEnv): string[];
  /**
   * How to get `tool` when it is missing, for the preflight error.
   * @default - install.sh or another --builder
   */
  installHint?(tool: string): string;
  /**
   * Checks the builder's own settings (environment variables) before anything
   * is built; throws an Error that says what to set.
   * @default - nothing to check
   */
  checkSettings?(env: NodeJS.ProcessEnv): void;
  /**
   * Writes the files the commands read into `request.scratchDir`.
   * @default - the commands need no files
   */
  prepare?(request: BuildRequest, env: NodeJS.ProcessEnv): void;
  /** Progress title of the build step. */
  title(request: BuildRequest, env: NodeJS.ProcessEnv): string;
  /** The commands that build and push, run in order. */
  commands(request: BuildRequest, env: NodeJS.ProcessEnv): CommandSpec[];
  /** What was pushed, read from the files the commands wrote. */
  result(request: BuildRequest): PushedImage;
}

/** `--build-arg K=V` pairs in a stable order, so commands are reproducible. */
export function buildArgFlags(flag: string, buildArgs: Readonly<Record<string, string>>): string[] {
  return Object.keys(buildArgs).sort().flatMap(k => [flag, `${k}=${buildArgs[k]}`]);
}
