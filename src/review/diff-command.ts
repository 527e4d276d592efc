import { renderReview, REVIEW_FORMATS, ReviewFormat, reviewExitCode } from './render';
import { reviewWorkingTree } from './working-tree';
import { readCommandLine, UsageError } from '../common/cli-flags';
import { CommandIo } from '../common/command-io';
import { GitOpsRepository } from '../gitops/gitops-repository';

/** Exit status of `diff` (and `view`) when it could not compare (bad ref, failed synth, bad usage). */
export const DIFF_ERROR_EXIT = 3;

/** Usage of the `diff` command. */
export const DIFF_USAGE = `usage: diff [--base REF | --cluster] [--format ${REVIEW_FORMATS.join('|')}] [--color|--no-color]

Synthesizes the working tree into a temporary directory (dist/ is not touched) and compares it,
object by object, with the committed tree at REF (default HEAD), or with --cluster with the cluster
of your kubeconfig: its live objects against a server-side dry run of the tree (as kubectl diff
--server-side; kubectl on PATH, or KUBECTL). Exit status: 0 no change, 1 changes, 2 dangerous
changes, ${DIFF_ERROR_EXIT} no diff (bad ref, failed synth, cluster unreachable, bad usage).`;

/**
 * Compares `repository`'s working tree with its committed tree at a git ref
 * and reports the changes and the dangerous ones.
 * @returns the exit status: 0 no change, 1 changes, 2 dangerous changes, 3 no diff
 */
export function diffCommand(repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo): number {
  const flags = readCommandLine(argv, {
    values: ['base', 'format'],
    switches: ['cluster', 'color', 'no-color'],
    usage: DIFF_USAGE,
    usageExit: DIFF_ERROR_EXIT,
    check: parsed => {
      if (parsed.has('cluster') && parsed.has('base')) throw new UsageError('--base and --cluster compare with different things: give one');
      const format = parsed.value('format') ?? 'terminal';
      if (!(REVIEW_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format "${format}" is not one of ${REVIEW_FORMATS.join(', ')}`);
    },
  }, io);
  if (typeof flags === 'number') return flags;
  const format = (flags.value('format') ?? 'terminal') as ReviewFormat;
  const color = format === 'terminal' && (flags.has('color') || (io.color && !flags.has('no-color')));
  try {
    const { review } = reviewWorkingTree(repository, {
      base: flags.value('base') ?? 'HEAD', cluster: flags.has('cluster'), cwd: io.cwd, env: io.env, step: 'diff', log: line => io.stderr(`${line}\n`),
    });
    io.stdout(renderReview(review, format, color));
    return reviewExitCode(review);
  } catch (e) {
    io.stderr(`diff failed: ${(e as Error).message}\n`);
    return DIFF_ERROR_EXIT;
  }
}
