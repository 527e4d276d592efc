import * as path from 'path';
import { BUILD_IMAGE_USAGE, BuildImageArgs, parseBuildImageArgs } from './build-image-args';
import { buildImage, ImageBuildOptions } from './image-build';
import { UsageError } from '../common/cli-flags';
import { CommandIo } from '../common/command-io';
import { GitOpsRepository } from '../gitops/gitops-repository';
import { DEFAULT_IMAGE_LOCK_FILE } from '../images/image-lock';

/**
 * Builds, pushes and pins an image of `repository`: progress on stderr, the
 * pinned reference alone on stdout (so scripts can capture it).
 * @returns the exit status: 0, or 1 for a failed build or bad usage (lock and manifests unchanged)
 */
export async function buildImageCommand(repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo): Promise<number> {
  let options: ImageBuildOptions;
  try {
    const args = parseBuildImageArgs(argv);
    if (args === undefined) {
      io.stdout(`${BUILD_IMAGE_USAGE}\n`);
      return 0;
    }
    options = withImageSource(repository, args, io.cwd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`error: ${e.message}\n\n${BUILD_IMAGE_USAGE}\n`);
    return 1;
  }
  const started = Date.now();
  try {
    const result = await buildImage(options, { repository, env: io.env, log: line => io.stderr(`${line}\n`), output: io.stderr, signal: io.signal });
    io.stderr(`built ${options.name} with ${result.entry.builder} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${result.reference}\n`);
    io.stdout(`${result.reference}\n`);
    return 0;
  } catch (e) {
    const { lockFile = DEFAULT_IMAGE_LOCK_FILE, outdir = repository.manifestsPath, helmDir = repository.helmChartName && `helm/${repository.helmChartName}` } = options;
    const tankaDir = options.tankaDir ?? repository.tankaDir(outdir);
    const kept = [lockFile, ...[outdir, helmDir, tankaDir].filter(d => d).map(d => `${d}/`)];
    io.stderr(`${(e as Error).message}\n${kept.slice(0, -1).join(', ')} and ${kept[kept.length - 1]} were left unchanged.\n`);
    return 1;
  }
}

/** The command line's options, with the image name and context taken from the repository's image sources where not given. */
function withImageSource(repository: GitOpsRepository<any>, args: BuildImageArgs, cwd: string): ImageBuildOptions {
  const sources = repository.imageSources;
  const names = Object.keys(sources);
  let name = args.name;
  if (name === undefined) {
    if (names.length !== 1) {
      throw new UsageError(names.length === 0
        ? `--name is required: repository ${repository.name} declares no imageSources`
        : `--name is required: repository ${repository.name} has several image sources (${names.join(', ')})`);
    }
    name = names[0];
  }
  const source = sources[name];
  const context = args.context ?? source?.context;
  if (context === undefined) {
    throw new UsageError(`--context is required: "${name}" is not one of the image sources of repository ${repository.name}${names.length ? ` (${names.join(', ')})` : ''}`);
  }
  const dockerfile = args.dockerfile ?? (args.context === undefined ? source?.dockerfile : undefined);
  return {
    ...args,
    name,
    context: path.resolve(cwd, context),
    ...(dockerfile !== undefined ? { dockerfile: path.resolve(cwd, dockerfile) } : {}),
  };
}
