import * as path from 'path';
import { GitOpsRepository } from './gitops-repository';
import { readCommandLine } from '../common/cli-flags';
import { CommandIo } from '../common/command-io';
import { DEFAULT_IMAGE_LOCK_FILE, ImageLock } from '../images/image-lock';

/** Usage of the `synth` command. */
export const SYNTH_USAGE = `usage: synth [--outdir DIR] [--helm-dir DIR] [--tanka-dir DIR] [--lock FILE]

Synthesizes every environment, the Argo CD Applications, the Helm chart and the
Tanka project (those the repository has), and
puts them in place together: if anything fails (a bad prop, an image missing from
the lock), nothing is written and the error names the construct and the value.

  --outdir DIR     the GitOps tree    (default $CDK8S_OUTDIR, which cdk8s synth sets, or dist)
  --helm-dir DIR   the Helm chart     (default $HELM_OUTDIR or helm/<chart name>)
  --tanka-dir DIR  the Tanka project  (default $TANKA_OUTDIR, or tanka/ beside the tree)
  --lock FILE      the image lock     (default $IMAGES_LOCK_FILE or ${DEFAULT_IMAGE_LOCK_FILE})`;

/**
 * Synthesizes `repository` into its directories: progress on stderr, and on
 * failure the error with nothing written.
 * @returns the exit status: 0, or 1 when synth failed or the command line is bad
 */
export function synthCommand(repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo): number {
  const flags = readCommandLine(argv, { values: ['outdir', 'helm-dir', 'tanka-dir', 'lock'], switches: [], usage: SYNTH_USAGE, usageExit: 1 }, io);
  if (typeof flags === 'number') return flags;
  // Relative to the process's directory, which the progress lines then show as given.
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.relative(process.cwd(), path.resolve(io.cwd, p)) || '.');
  const outdir = flags.value('outdir') ?? io.env.CDK8S_OUTDIR ?? repository.manifestsPath;
  const helmDir = flags.value('helm-dir') ?? io.env.HELM_OUTDIR ?? (repository.helmChartName ? path.join('helm', repository.helmChartName) : undefined);
  const tankaDir = flags.value('tanka-dir') ?? io.env.TANKA_OUTDIR ?? repository.tankaDir(outdir);
  const lockFile = flags.value('lock') ?? io.env.IMAGES_LOCK_FILE ?? DEFAULT_IMAGE_LOCK_FILE;
  try {
    repository.synth({
      outdir: resolve(outdir),
      ...(helmDir !== undefined ? { helmDir: resolve(helmDir) } : {}),
      ...(tankaDir !== undefined ? { tankaDir: resolve(tankaDir) } : {}),
      lock: ImageLock.fromFile(resolve(lockFile)),
      log: line => io.stderr(`${line}\n`),
    });
    return 0;
  } catch (e) {
    const kept = [outdir, helmDir, tankaDir].filter(d => d !== undefined).map(d => `${d}/`).join(', ').replace(/, ([^,]*)$/, ' and $1');
    io.stderr(`synth failed, ${kept} left as they were:\n  ${(e as Error).message}\n`);
    return 1;
  }
}
