import { BUILDER_NAMES, BuilderName } from './builder';
import { parseFlags, UsageError } from '../common/cli-flags';

/** Usage text of the `build-image` command. */
export const BUILD_IMAGE_USAGE = `usage: build-image --builder ${BUILDER_NAMES.join('|')} --repository REPO [options]

Builds the image, pushes it, checks the registry has the digest, re-synthesizes
the manifests with it pinned, and only then updates the lock. On any failure
the lock and the manifests stay exactly as they were and the exit status is 1.

  --builder NAME        ko (Go module, .ko.yaml), kaniko (Dockerfile, in the
                        kaniko executor image), buildah (Dockerfile, daemonless),
                        docker (Dockerfile, BuildKit of a Docker daemon) or
                        buildpacks (no Dockerfile: Cloud Native Buildpacks,
                        the lifecycle in a builder image on a Docker daemon)
  --repository REPO     repository without tag, e.g. 127.0.0.1:5000/acme/todo
  --name NAME           image name in the lock (default: the repository's only
                        image source, see GitOpsRepository's imageSources)
  --context DIR         build context / Go module (default: that image source's)
  --dockerfile FILE     Dockerfile builders only     (default CONTEXT/Dockerfile)
  --build-arg K=V       Dockerfile ARG, repeatable; buildpacks: build-time env
  --tag TAG             tag pushed with the digest   (default sha-<commit>)
  --lock FILE           lock file to update        (default images.lock.json)
  --outdir DIR          manifests directory                (default dist)
  --helm-dir DIR        generated Helm chart   (default helm/<chart name>)
  --tanka-dir DIR       generated Tanka project   (default tanka beside outdir)
  --insecure            plain HTTP to the registry (automatic for 127.0.0.1)

ko honours KO_DEFAULTBASEIMAGE; kaniko runs $KANIKO_EXECUTOR (default
/kaniko/executor, there only inside the executor image; elsewhere set it to a
wrapper that runs the executor image in a container); buildah honours
STORAGE_DRIVER and BUILDAH_ISOLATION; docker and buildpacks run $DOCKER_CLI
(default docker) against $DOCKER_HOST; buildpacks needs CNB_BUILDER_IMAGE=<builder
image by digest> and passes CNB_REGISTRY_AUTH on.`;

/** What the `build-image` command line asks for; name and context may still come from the repository. */
export interface BuildImageArgs {
  readonly builder: BuilderName;
  readonly repository: string;
  readonly name?: string;
  readonly context?: string;
  readonly dockerfile?: string;
  readonly buildArgs: Record<string, string>;
  readonly tag?: string;
  readonly lockFile?: string;
  readonly outdir?: string;
  readonly helmDir?: string;
  readonly tankaDir?: string;
  readonly insecure?: boolean;
}

/** The flags of `build-image`, for {@link parseFlags}. */
export const BUILD_IMAGE_FLAGS = {
  values: ['builder', 'repository', 'name', 'context', 'dockerfile', 'tag', 'lock', 'outdir', 'helm-dir', 'tanka-dir'],
  repeatable: ['build-arg'],
  switches: ['insecure'],
} as const;

/**
 * Parses the `build-image` command line (`--flag value` or `--flag=value`).
 * @returns undefined when it asks for help
 * @throws UsageError for unknown, repeated or incomplete flags
 */
export function parseBuildImageArgs(argv: readonly string[]): BuildImageArgs | undefined {
  const flags = parseFlags(argv, BUILD_IMAGE_FLAGS);
  if (flags.has('help')) return undefined;
  const builder = flags.value('builder');
  if (builder === undefined) throw new UsageError('--builder is required');
  if (!(BUILDER_NAMES as readonly string[]).includes(builder)) {
    throw new UsageError(`--builder "${builder}" is not one of ${BUILDER_NAMES.join(', ')}`);
  }
  const repository = flags.value('repository');
  if (repository === undefined) throw new UsageError('--repository is required');
  const buildArgs: Record<string, string> = {};
  for (const pair of flags.values('build-arg')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--build-arg "${pair}" is not KEY=VALUE`);
    buildArgs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const optional = (flag: string, key: keyof BuildImageArgs) => (flags.has(flag) ? { [key]: flags.value(flag) } : {});
  return {
    builder: builder as BuilderName,
    repository,
    ...optional('name', 'name'),
    ...optional('context', 'context'),
    ...optional('dockerfile', 'dockerfile'),
    buildArgs,
    ...optional('tag', 'tag'),
    ...optional('lock', 'lockFile'),
    ...optional('outdir', 'outdir'),
    ...optional('helm-dir', 'helmDir'),
    ...optional('tanka-dir', 'tankaDir'),
    ...(flags.has('insecure') ? { insecure: true } : {}),
  };
}
