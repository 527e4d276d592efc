import * as fs from 'fs';
import * as path from 'path';
import { DIFF_ERROR_EXIT } from './diff-command';
import { reviewSummary } from './render';
import { buildTopology } from './topology';
import { renderViewerPage } from './viewer-page';
import { reviewWorkingTree } from './working-tree';
import { readCommandLine } from '../common/cli-flags';
import { CommandIo } from '../common/command-io';
import { GitOpsRepository } from '../gitops/gitops-repository';

/** Usage of the `view` command. */
export const VIEW_USAGE = `usage: view [--base REF] [--out FILE]

Writes one self-contained HTML file (default gitops-view.html) showing the synthesized tree of the
working tree: Applications, environments and their objects, how they relate, and the diff against
the committed tree at REF (default HEAD). Open it in a browser; it needs no server or network.`;

/**
 * Writes the topology viewer of `repository`'s working tree, with the diff
 * against a git ref overlaid.
 * @returns the exit status: 0, or 3 when it could not compare (bad ref, failed synth, bad usage)
 */
export function viewCommand(repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo): number {
  const flags = readCommandLine(argv, { values: ['base', 'out'], switches: [], usage: VIEW_USAGE, usageExit: DIFF_ERROR_EXIT }, io);
  if (typeof flags === 'number') return flags;
  const out = path.resolve(io.cwd, flags.value('out') ?? 'gitops-view.html');
  try {
    const { review, head } = reviewWorkingTree(repository, {
      base: flags.value('base') ?? 'HEAD', cwd: io.cwd, env: io.env, step: 'view', log: line => io.stderr(`${line}\n`),
    });
    const topology = buildTopology(head, review.changes);
    const page = renderViewerPage(topology, { title: `${repository.name}: the GitOps tree`, subtitle: reviewSummary(review) });
    fs.writeFileSync(out, page);
    io.stdout(`${out}\n`);
    return 0;
  } catch (e) {
    io.stderr(`view failed: ${(e as Error).message}\n`);
    return DIFF_ERROR_EXIT;
  }
}
