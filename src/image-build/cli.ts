/**
 * Image build CLI: `npm run build:image -- --builder ko --repository ghcr.io/acme/todo`.
 * Progress goes to stderr; on success stdout gets the pinned reference only,
 * so scripts can capture it. Exit status 1 on any failure, 130 when interrupted.
 */
import { parseArgs, USAGE } from './cli-args';
import { buildImage } from './image-build';
import { UsageError } from '../common/cli-flags';
import { TODO_REPOSITORY } from '../todo/repository';

// On Ctrl-C or a CI cancel, stop the build tool and let the failed step clean
// up (temporary lock, staged manifests) instead of dying mid-way. A second
// signal exits at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(`${signal}: stopping the build; the lock and the manifests stay as they were\n`);
    interrupt.abort(signal);
  });
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n\n${USAGE}\n`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = Date.now();
  try {
    const result = await buildImage(parsed.options, { repository: TODO_REPOSITORY, signal: interrupt.signal });
    process.stderr.write(`built ${parsed.options.name ?? 'todo'} with ${result.entry.builder} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${result.reference}\n`);
    process.stdout.write(`${result.reference}\n`);
    return 0;
  } catch (e) {
    const { lockFile = 'images.lock.json', outdir = 'dist', helmDir = `helm/${TODO_REPOSITORY.helmChartName}` } = parsed.options;
    const tankaDir = parsed.options.tankaDir ?? TODO_REPOSITORY.tankaDir(outdir);
    process.stderr.write(`${(e as Error).message}\n${lockFile}, ${outdir}/, ${helmDir}/ and ${tankaDir}/ were left unchanged.\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  code => { process.exitCode = interrupt.signal.aborted ? 130 : code; },
  e => {
    process.stderr.write(`internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
