import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DIFF_ERROR_EXIT } from './diff-command';
import { ClusterReader, LiveViewState } from './live-cluster';
import { LiveViewServer } from './live-server';
import { ManifestTree } from './manifest-tree';
import { reviewSummary } from './render';
import { buildTopology } from './topology';
import { renderViewerPage } from './viewer-page';
import { currentContext, reviewWorkingTree, synthesizeWorkingTree } from './working-tree';
import { readCommandLine, UsageError } from '../common/cli-flags';
import { CommandIo } from '../common/command-io';
import { GitOpsRepository } from '../gitops/gitops-repository';

/** Usage of the `view` command. */
export const VIEW_USAGE = `usage: view [--base REF] [--out FILE]
       view --cluster [--port PORT]

Writes one self-contained HTML file (default gitops-view.html) showing the synthesized tree of the
working tree: Applications, environments and their objects, how they relate, and the diff against
the committed tree at REF (default HEAD). Open it in a browser; it needs no server or network.

With --cluster, serves a live view instead, on 127.0.0.1 (a free port, or PORT) until Ctrl-C: each
object of the working tree beside its live counterpart in the cluster of your kubeconfig (missing,
extra, drifted as diff --cluster computes it, in sync), replicas, pods, claims, the Argo CD
Applications, events and pod logs. It only reads (kubectl get and logs, and server-side dry runs;
kubectl on PATH, or KUBECTL). Open the URL it prints: it carries a one-time token, and any request
without it is refused.`;

/** Milliseconds between two reads of the cluster in `view --cluster`. */
export const LIVE_VIEW_INTERVAL_MS = 1000;

/**
 * Writes the topology viewer of `repository`'s working tree, with the diff
 * against a git ref overlaid; with `--cluster`, serves the live view until
 * `io.signal` aborts.
 * @returns the exit status: 0, or 3 when it could not compare (bad ref, failed synth, bad usage, port taken)
 */
export function viewCommand(repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo): number | Promise<number> {
  const flags = readCommandLine(argv, {
    values: ['base', 'out', 'port'],
    switches: ['cluster'],
    usage: VIEW_USAGE,
    usageExit: DIFF_ERROR_EXIT,
    check: parsed => {
      if (parsed.has('cluster') && (parsed.has('base') || parsed.has('out'))) throw new UsageError('--cluster serves a live page: --base and --out are for the file of the static view');
      if (parsed.has('port') && !parsed.has('cluster')) throw new UsageError('--port is for --cluster');
      const port = parsed.value('port');
      if (port !== undefined && !(/^\d+$/.test(port) && Number(port) > 0 && Number(port) < 65536)) throw new UsageError(`--port "${port}" is not a port number (1-65535)`);
    },
  }, io);
  if (typeof flags === 'number') return flags;
  if (flags.has('cluster')) return serveLiveView(repository, Number(flags.value('port') ?? 0), io);
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

/**
 * `view --cluster`: synthesizes the working tree once, reads the cluster in a
 * loop and serves the page until `io.signal` aborts; then kills its kubectl
 * children, closes the server and removes the scratch tree.
 */
async function serveLiveView(repository: GitOpsRepository<any>, port: number, io: CommandIo): Promise<number> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-live-'));
  let reader: ClusterReader | undefined;
  let server: LiveViewServer | undefined;
  try {
    io.stderr(`[view 1/2] synthesize the working tree into a scratch directory (${repository.manifestsPath}/ is not touched)\n`);
    const treeDir = synthesizeWorkingTree(repository, scratch, io);
    const tree = ManifestTree.fromDirectory(treeDir);
    const context = `the cluster${currentContext(io.env)}`;
    const topology = buildTopology(tree);
    let lastError: string | undefined;
    const onState = (state: LiveViewState) => {
      // Said once when it starts failing and once when it recovers, not at every read.
      if (state.error !== lastError) io.stderr(state.error ? `cannot read ${context}: ${state.error}\n` : `reading ${context} again\n`);
      lastError = state.error;
      server?.publish(state);
    };
    reader = new ClusterReader({ treeDir, tree, env: io.env, intervalMs: LIVE_VIEW_INTERVAL_MS, onState });
    server = await LiveViewServer.start({
      port,
      source: reader,
      page: nonce => renderViewerPage(topology, { title: `${repository.name}: git against ${context}`, subtitle: `live, read-only; ${tree.objects.length} objects in git`, live: true, nonce }),
    });
    io.stderr(`[view 2/2] read ${context} every ${LIVE_VIEW_INTERVAL_MS / 1000}s (read-only); serving on 127.0.0.1:${server.port} until Ctrl-C\n`);
    reader.start();
    io.stdout(`${server.url}\n`);
    await new Promise<void>(resolve => {
      if (!io.signal) return;
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return 0;
  } catch (e) {
    io.stderr(`view failed: ${(e as Error).message}\n`);
    return DIFF_ERROR_EXIT;
  } finally {
    await reader?.stop();
    await server?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
