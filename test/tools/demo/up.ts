/**
 * `demo up`: the todo service running on a local cluster, synced by Argo CD
 * from this repository, in eight steps:
 *
 *   1 tools        test/tools/install.sh (cached under ~/.cache/todo-gitops/tools)
 *   2 cluster      the cluster program (test/tools/cluster/), one node, in <dir>/cluster
 *   3 git server   a clone of HEAD, served read-only by `git daemon` on git://127.0.0.1:PORT
 *   4 images       Postgres, its exporter, the Sealed Secrets controller and the todo service (ko)
 *                  pushed to the cluster's registry; the tree synthesized with that lock and
 *                  TODO_REPO_URL=<the git server>, and committed
 *   5 Argo CD      CRDs and base objects; redis, repo-server, application-controller as processes here
 *   6 bootstrap    dev's volumes; `kubectl apply -f dist/bootstrap/`; todo-dev Synced and Healthy
 *   7 todo service kubectl port-forward to Service todo on 127.0.0.1
 *   8 live view    `view --cluster`, its token URL
 *
 * Everything it starts is recorded in the state directory as it starts
 * (state.ts); a failed step is named and everything is torn down (down.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { demoDown } from './down';
import { DemoState, DemoUrls } from './state';
import { TODO_GIT } from '../../../todo/environments';
import { ARGOCD_NS, Applications, ServedRepository, argoCdBaseObjects, startArgoCd } from '../../e2e/argocd-support';
import { ARGOCD_CRDS, Kubectl, distObjects, installCrds } from '../../e2e/cluster-support';
import { ROOT, freePort, installTools, portInUse, run } from '../../e2e/harness';
import { NodesCluster, buildLocalTodoTree, nodeVolumes, startNodesCluster } from '../../e2e/real-cluster-support';
import { CLUSTER_TOOLS } from '../cluster/cluster';
import { progressLine, running, spawnDetached, tail, waitUntil } from '../cluster/sys';

/** The environment the demo waits for and serves. */
const ENV = 'dev';
const NAMESPACE = 'todo-dev';
/** Bootstrap to todo-dev Synced and Healthy (Postgres first, then the web tier: two sync waves). */
const SYNC_LIMIT_S = 300;
/** Synthesizing the working tree before the view prints its URL. */
const VIEW_LIMIT_S = 180;
const STEPS = 8;

/** What `up` prints: the URLs, and how long each step took. */
export interface DemoResult {
  readonly urls: DemoUrls;
  readonly seconds: Array<[string, number]>;
}

/** A port from the environment (DEMO_TODO_PORT, DEMO_VIEW_PORT), else a free one. */
async function portFrom(variable: string): Promise<number> {
  const fixed = process.env[variable];
  if (!fixed) return freePort();
  if (!/^\d+$/.test(fixed)) throw new Error(`${variable}=${fixed} is not a port number`);
  if (await portInUse(Number(fixed))) throw new Error(`${variable}=${fixed}: the port is taken`);
  return Number(fixed);
}

/** For waitUntil: says so, with the end of its log, once the process `pid` has exited. */
function exited(pid: number, what: string, log: string): () => string | undefined {
  return () => (running(pid) ? undefined : `${what} exited:\n${tail(log, 15)}`);
}

export async function demoUp(dir: string): Promise<DemoResult> {
  if (fs.existsSync(DemoState.stateFile(dir)) || (fs.existsSync(dir) && fs.readdirSync(dir).length)) {
    throw new Error(`${dir} is in use (a demo is up, or a failed one left it): npm run demo:down first`);
  }
  const state = new DemoState(dir);
  for (const d of ['logs', 'git', 'argocd', 'images']) fs.mkdirSync(state.path(d), { recursive: true });

  let toolEnv: NodeJS.ProcessEnv = process.env;
  let cluster: NodesCluster | undefined;
  let kube = new Kubectl(process.env);
  const repoDir = state.path('git', 'todo-gitops');
  const lock = path.join(repoDir, 'images.lock.json');
  let repoUrl = '';
  let todoUrl = '';
  let viewUrl = '';

  const steps: Array<[string, string, () => Promise<void>]> = [
    ['tools', 'finding the tools (test/tools/install.sh: the cluster\'s, Argo CD, git, redis)', async () => {
      toolEnv = await installTools([...CLUSTER_TOOLS, 'argocd']);
    }],
    ['cluster', 'bringing up the cluster (one node)', async () => {
      cluster = await startNodesCluster(state.path('cluster'), toolEnv, 1);
      kube = cluster.kube;
    }],
    ['git', 'serving this repository (HEAD) with git daemon on 127.0.0.1', async () => {
      await new ServedRepository(repoDir, toolEnv).cloneFrom(ROOT, TODO_GIT.targetRevision);
      const port = await freePort();
      const pid = spawnDetached('git', ['daemon', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, '--export-all', '--informative-errors',
        `--base-path=${state.path('git')}`], state.path('logs', 'git-daemon.log'), toolEnv);
      state.addProcess('git daemon', pid, true);
      repoUrl = `git://127.0.0.1:${port}/todo-gitops`;
      await waitUntil(`git daemon on ${repoUrl}`, 30, async () =>
        (await run('git', ['ls-remote', repoUrl, TODO_GIT.targetRevision], { env: toolEnv, allowFail: true })).code === 0,
      exited(pid, 'git daemon', state.path('logs', 'git-daemon.log')));
      progressLine('demo', `  serving ${repoUrl}`);
    }],
    ['images', 'building images into the cluster\'s registry; synthesizing the tree with them and TODO_REPO_URL', async () => {
      await buildLocalTodoTree(cluster!, { ...toolEnv, TODO_REPO_URL: repoUrl }, state.path('images'),
        { lock, outdir: path.join(repoDir, 'dist'), helmDir: path.join(repoDir, 'helm', 'todo') });
      const root = fs.readFileSync(path.join(repoDir, 'dist', 'bootstrap', 'root.k8s.yaml'), 'utf-8');
      if (!root.includes(`repoURL: ${repoUrl}`)) throw new Error(`dist/bootstrap does not point at ${repoUrl}`);
      const revision = await new ServedRepository(repoDir, toolEnv).commitAll(`demo: images from ${cluster!.registry}, repoUrl ${repoUrl}`);
      progressLine('demo', `  committed ${revision.slice(0, 8)} on ${TODO_GIT.targetRevision}`);
    }],
    ['argocd', 'starting Argo CD (CRDs; redis, repo-server, application-controller)', async () => {
      await installCrds(kube, ARGOCD_CRDS);
      const r = await kube.apply(argoCdBaseObjects(), 'demo');
      if (r.code !== 0) throw new Error(`Argo CD's base objects: ${r.stderr}`);
      await startArgoCd(state.path('argocd'), kube, toolEnv, { onStart: (name, pid) => state.addProcess(name, pid, false) });
    }],
    ['bootstrap', `bootstrapping from dist/bootstrap/; waiting for todo-${ENV} Synced and Healthy`, async () => {
      await nodeVolumes(cluster!, NAMESPACE, distObjects(ENV, path.join(repoDir, 'dist')), cluster!.nodes[0]);
      await kube.run(['apply', '-f', path.join(repoDir, 'dist', 'bootstrap')]);
      await new Applications(kube).waitSettled([`todo-${ENV}`], SYNC_LIMIT_S, Date.now());
    }],
    ['port-forward', 'forwarding 127.0.0.1 to the todo service', async () => {
      const port = await portFrom('DEMO_TODO_PORT');
      const log = state.path('logs', 'port-forward.log');
      const pid = spawnDetached('kubectl', ['-n', NAMESPACE, 'port-forward', '--address', '127.0.0.1', 'service/todo', `${port}:80`], log, kube.env);
      state.addProcess('kubectl port-forward', pid, true);
      todoUrl = `http://127.0.0.1:${port}/`;
      await waitUntil(`the web page on ${todoUrl}`, 30, async () => (await fetch(todoUrl)).status === 200, exited(pid, 'kubectl port-forward', log));
    }],
    ['view', 'starting the live view (view --cluster)', async () => {
      // The view picks a free port itself unless one is asked for.
      const port = process.env.DEMO_VIEW_PORT ? ['--port', String(await portFrom('DEMO_VIEW_PORT'))] : [];
      const log = state.path('logs', 'view.log');
      const pid = spawnDetached(process.execPath, [path.join(ROOT, 'scripts', 'run-compiled.js'), 'todo/cli.ts', 'view', '--cluster', ...port], log,
        { ...kube.env, IMAGES_LOCK_FILE: lock, TODO_REPO_URL: repoUrl });
      state.addProcess('view --cluster', pid, true);
      await waitUntil('view --cluster to print its URL', VIEW_LIMIT_S, async () => {
        viewUrl = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})$/m.exec(tail(log, 50))?.[1] ?? '';
        return viewUrl !== '';
      }, exited(pid, 'view --cluster', log));
      if ((await fetch(viewUrl)).status !== 200) throw new Error(`${viewUrl} does not answer 200`);
    }],
  ];

  const started = Date.now();
  const seconds: Array<[string, number]> = [];
  for (const [i, [short, title, body]] of steps.entries()) {
    progressLine(`demo ${i + 1}/${STEPS}`, `${title}…`);
    const stepStarted = Date.now();
    try {
      await body();
    } catch (e) {
      progressLine('demo', `FAILED at step ${i + 1}/${STEPS} (${title}): ${(e as Error).message}`);
      for (const f of fs.readdirSync(state.path('logs')).filter(l => tail(state.path('logs', l)) !== '')) {
        progressLine('demo', `  the end of ${f}:\n${tail(state.path('logs', f), 10)}`);
      }
      progressLine('demo', 'tearing everything down');
      await demoDown(dir).catch(err => progressLine('demo', `teardown failed: ${(err as Error).message}`));
      throw new Error(`step ${i + 1}/${STEPS} failed: ${title}`);
    }
    seconds.push([short, (Date.now() - stepStarted) / 1000]);
  }
  seconds.push(['total', (Date.now() - started) / 1000]);
  const urls: DemoUrls = { todo: todoUrl, view: viewUrl, git: repoUrl, kubeconfig: kube.env.KUBECONFIG! };
  state.setUrls(urls);
  progressLine('demo', `Argo CD's Applications: KUBECONFIG=${urls.kubeconfig} kubectl -n ${ARGOCD_NS} get applications`);
  return { urls, seconds };
}
