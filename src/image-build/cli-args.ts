import { BUILDER_NAMES, BuilderName } from './builder';
import { ImageBuildOptions } from './image-build';
import { UsageError } from '../common/cli-flags';

/** Usage text of `src/image-build/cli.ts`. */
export const USAGE = `usage: npm run build:image -- --builder ${BUILDER_NAMES.join('|')} --repository REPO [options]

Builds the image, pushes it, checks the registry has the digest, re-synthesizes
the manifests with it pinned, and only then updates the lock. On any failure
the lock and the manifests stay exactly as they were and the exit status is 1.

  --builder NAME        ko (Go module, .ko.yaml), kaniko (Dockerfile, in the
                        kaniko executor image) or buildah (Dockerfile, daemonless)
  --repository REPO     repository without tag, e.g. 127.0.0.1:5000/acme/todo
  --name NAME           image name in the lock            (default todo)
  --context DIR         build context / Go module          (default app)
  --dockerfile FILE     Dockerfile builders only     (default CONTEXT/Dockerfile)
  --build-arg K=V       Dockerfile ARG, repeatable (Dockerfile builders only)
  --tag TAG             tag pushed with the digest   (default sha-<commit>)
  --lock FILE           lock file to update        (default images.lock.json)
  --outdir DIR          manifests directory                (default dist)
  --helm-dir DIR        generated Helm chart          (default helm/todo)
  --tanka-dir DIR       generated Tanka project   (default tanka beside outdir)
  --insecure            plain HTTP to the registry (automatic for 127.0.0.1)

ko honours KO_DEFAULTBASEIMAGE; kaniko runs $KANIKO_EXECUTOR (default
/kaniko/executor, there only inside the executor image; elsewhere, as root with
runc: KANIKO_EXECUTOR=test/tools/images/kaniko-executor.sh KANIKO_IMAGE=<executor
image by digest>); buildah honours STORAGE_DRIVER and BUILDAH_ISOLATION.`;

/** What the command line asks for. */
export type ParsedArgs = { readonly help: true } | { readonly help: false; readonly options: ImageBuildOptions };

const VALUE_FLAGS = ['builder', 'repository', 'name', 'context', 'dockerfile', 'build-arg', 'tag', 'lock', 'outdir', 'helm-dir', 'tanka-dir'] as const;
type ValueFlag = typeof VALUE_FLAGS[number];

/**
 * Parses the command line (`--flag value` or `--flag=value`).
 * @throws UsageError for unknown, repeated or incomplete flags
 */
export function parseArgs(argv: string[]): ParsedArgs {
  const values: Partial<Record<ValueFlag, string>> = {};
  const buildArgs: Record<string, string> = {};
  let insecure: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '--insecure') {
      insecure = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m || !(VALUE_FLAGS as readonly string[]).includes(m[1])) throw new UsageError(`unknown argument "${arg}"`);
    const flag = m[1] as ValueFlag;
    let value = m[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${flag} needs a value`);
      value = argv[++i];
    }
    if (flag === 'build-arg') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new UsageError(`--build-arg "${value}" is not KEY=VALUE`);
      buildArgs[value.slice(0, eq)] = value.slice(eq + 1);
      continue;
    }
    if (values[flag] !== undefined) throw new UsageError(`--${flag} given twice`);
    values[flag] = value;
  }
  if (values.builder === undefined) throw new UsageError('--builder is required');
  if (!(BUILDER_NAMES as readonly string[]).includes(values.builder)) {
    throw new UsageError(`--builder "${values.builder}" is not one of ${BUILDER_NAMES.join(', ')}`);
  }
  if (values.repository === undefined) throw new UsageError('--repository is required');
  return {
    help: false,
    options: {
      builder: values.builder as BuilderName,
      repository: values.repository,
      name: values.name,
      context: values.context,
      dockerfile: values.dockerfile,
      tag: values.tag,
      buildArgs,
      lockFile: values.lock,
      outdir: values.outdir,
      helmDir: values['helm-dir'],
      tankaDir: values['tanka-dir'],
      insecure,
    },
  };
}
