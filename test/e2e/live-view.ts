/**
 * End-to-end test of `view --cluster` on a real node: dev applied as Argo CD
 * applies it, with the images built here (test/e2e/real-cluster-support.ts),
 * then `npm run view -- --cluster` driven in headless Chromium
 * (playwright-core, Debian's chromium):
 * - a request without the token, or with a wrong one, gets 403; the page
 *   sets an HttpOnly, SameSite=Strict cookie and a Content-Security-Policy;
 * - the page lists dev's objects in sync, with live status;
 * - the Deployment scaled by hand shows as drift within 5 s;
 * - a deleted pod goes, and its replacement shows up Ready;
 * - a pod's log shows a request made during the test (kubectl port-forward);
 * - no console error, no request to another origin;
 * - Ctrl-C stops the view and its kubectl children; the page says the connection is lost.
 *
 *   sudo npx ts-node --transpile-only test/e2e/live-view.ts     # needs root
 *
 * Prints "[e2e i/N] ..." and ends with "N passed, N failed".
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, chromium, Page } from 'playwright-core';
import { Kubectl, applyEnvironmentAsArgo, distObjects } from './cluster-support';
import {
  ROOT, check, e2eMain, equal, installTools, onCleanup, progress, recordTiming, requireTools, run, section, skipSteps, sleep, waitFor,
} from './harness';
import { NodesCluster, buildLocalTodoTree, nodeVolumes, startNodesCluster, withPortForward } from './real-cluster-support';
import { CLUSTER_TOOLS } from '../tools/cluster/cluster';

const STEPS = 9;
const READY_LIMIT_S = 240;
/** The bound: a hand edit shows as drift within this. */
const DRIFT_LIMIT_MS = 5000;
const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(p => p !== undefined && fs.existsSync(p));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-live-view-'));
const TREE = path.join(tmp, 'tree', 'dist');
const LOCK = path.join(tmp, 'tree', 'images.lock.json');
const NS = 'todo-dev';
const DEPLOYMENT = `dev/Deployment/${NS}/todo`;
let toolEnv: NodeJS.ProcessEnv = process.env;
let cluster: NodesCluster;
let kube = new Kubectl(process.env);
let view: ChildProcess | undefined;
let viewUrl = '';
let viewStderr = '';
let browser: Browser;
let tab: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];
const timings: string[] = [];

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

/** The web pods of dev, by name, not being deleted. */
async function webPods(): Promise<string[]> {
  const pods = (await kube.json(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/component=web'])).items as any[];
  return pods.filter(p => !p.metadata.deletionTimestamp).map(p => p.metadata.name).sort();
}

/** What the page's list says of a pod: absent, or its phase and readiness (read in one go: the list is redrawn every second). */
async function podInPage(name: string): Promise<{ phase: string; ready: string } | undefined> {
  return tab.evaluate(pod => {
    const item = [...(globalThis as any).document.querySelectorAll('#objects li.pod')].find((i: any) => i.dataset.pod === pod);
    return item ? { phase: item.dataset.phase ?? '', ready: item.dataset.ready ?? '' } : undefined;
  }, name);
}

/** Stops the view as a terminal's Ctrl-C does: SIGINT to its process group (npm, node and its kubectl children); resolves to how npm ended. */
async function stopView(): Promise<string> {
  if (!view) return 'not started';
  if (view.exitCode !== null || view.signalCode !== null) return `${view.exitCode ?? view.signalCode}`;
  const exited = new Promise<string>(resolve => view!.once('exit', (code, signal) => resolve(`${code ?? signal}`)));
  process.kill(-view.pid!, 'SIGINT');
  const timer = setTimeout(() => { try { process.kill(-view!.pid!, 'SIGKILL'); } catch { /* gone */ } }, 15_000);
  const how = await exited;
  clearTimeout(timer);
  return how;
}

async function main(): Promise<void> {
  if (!CHROMIUM) {
    check('Chromium is installed (apt-get install chromium, or set CHROMIUM)', false);
    return;
  }
  const ready = await section([
    ['install/find tools: the cluster program\'s (Kubernetes v1.37.2 control plane, kubelet and kube-proxy; containerd; kube-router; CoreDNS), ko, crane (test/tools/install.sh)', async () => {
      toolEnv = await installTools(CLUSTER_TOOLS);
      if (!await requireTools(toolEnv, ['kubectl', 'ko', 'crane', 'curl'])) throw new Error('tools missing');
    }],
    ['cluster up: one real node with a registry', async () => {
      const started = Date.now();
      cluster = await startNodesCluster(path.join(tmp, 'cluster'), toolEnv);
      kube = cluster.kube;
      timing('cluster up (1 node)', (Date.now() - started) / 1000);
    }],
    ['images built here and pushed to the cluster\'s registry; the tree synthesized with the local lock', async () => {
      const started = Date.now();
      await buildLocalTodoTree(cluster, toolEnv, tmp, { lock: LOCK, outdir: TREE, helmDir: path.join(tmp, 'tree', 'helm') });
      timing('images and tree', (Date.now() - started) / 1000);
    }],
    [`dev applied as Argo CD does; every pod Ready within ${READY_LIMIT_S}s`, async () => {
      const objects = distObjects('dev', TREE);
      await nodeVolumes(cluster, NS, objects);
      const started = Date.now();
      await applyEnvironmentAsArgo(kube, 'dev', {}, TREE);
      for (const w of ['statefulset/todo-db', 'deployment/todo']) {
        const r = await kube.run(['-n', NS, 'rollout', 'status', w, `--timeout=${READY_LIMIT_S}s`], { allowFail: true });
        if (!check(`${NS} ${w} Ready`, r.code === 0, r.stderr + (await kube.run(['-n', NS, 'get', 'pods,events'], { allowFail: true })).stdout.slice(-2500))) throw new Error(`${w} not Ready`);
      }
      timing('dev: apply to every pod Ready', (Date.now() - started) / 1000);
    }],
  ]);
  if (!ready) {
    skipSteps(['view', 'page', 'drift', 'pod', 'log'], 'the cluster, the images or dev are not there');
    return;
  }

  const served = await section([
    ['npm run view -- --cluster: prints a URL on 127.0.0.1 with a token; without it (or with another) 403; with it 200, an HttpOnly SameSite=Strict cookie, a CSP', async () => {
      const started = Date.now();
      view = spawn('npm', ['run', '--silent', 'view', '--', '--cluster'], {
        cwd: ROOT, env: { ...cluster.env, IMAGES_LOCK_FILE: LOCK }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
      });
      onCleanup('stop view --cluster', async () => { await stopView(); });
      let stdout = '';
      view.stdout!.on('data', d => { stdout += d; });
      view.stderr!.on('data', d => { viewStderr += d; process.stderr.write(String(d).replace(/^(?=.)/gm, '    | ')); });
      await waitFor('view --cluster to print its URL', 300_000, async () => {
        if (view!.exitCode !== null) throw new Error(`view exited ${view!.exitCode}: ${viewStderr.slice(-1500)}`);
        return /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/m.test(stdout);
      }, 250);
      viewUrl = /^(http\S+)$/m.exec(stdout)![1];
      timing('view --cluster: start to URL', (Date.now() - started) / 1000);
      const url = new URL(viewUrl);
      const base = `${url.protocol}//${url.host}`;
      for (const [what, target] of [['the page without the token', `${base}/`], ['the state without the token', `${base}/api/state`],
        ['a log without the token', `${base}/api/logs?namespace=${NS}&pod=x`], ['the page with another token', `${base}/?token=${'0'.repeat(64)}`]]) {
        equal(`${what}: 403`, (await fetch(target)).status, 403);
      }
      equal('a cookie with another token: 403', (await fetch(`${base}/api/state`, { headers: { cookie: `gitops_view_token=${'1'.repeat(64)}` } })).status, 403);
      const ok = await fetch(viewUrl);
      equal('the page with the token: 200', ok.status, 200);
      const cookie = ok.headers.get('set-cookie') ?? '';
      check(`sets an HttpOnly, SameSite=Strict cookie (${cookie.replace(/=[0-9a-f]{64}/, '=...')})`, /HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie));
      const csp = ok.headers.get('content-security-policy') ?? '';
      check(`Content-Security-Policy: ${csp.slice(0, 80)}...`, /default-src 'none'/.test(csp) && /script-src 'nonce-/.test(csp));
      const page = await ok.text();
      check('the page loads nothing from elsewhere (no src= or href= to another origin)', !/(src|href)=["']?(https?:)?\/\//.test(page));
    }],
    ['the page in headless Chromium: dev\'s objects listed in sync, the Deployment and its pod with live status', async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
      });
      onCleanup('close Chromium', async () => { await browser.close(); });
      tab = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      tab.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      tab.on('pageerror', e => consoleErrors.push(String(e)));
      tab.on('request', r => requests.push(r.url()));
      await tab.goto(viewUrl);
      await tab.waitForFunction(() => (globalThis as any).gitopsView?.live.updates > 0, undefined, { timeout: 30_000 });
      equal('the page opens on dev', await tab.inputValue('#filter-env'), 'dev');
      const inGit = distObjects('dev', TREE).map(o => `dev/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
      await waitFor('every dev object in sync', 30_000, async () =>
        (await tab.locator('#objects li[data-id^="dev/"][data-status="in-sync"]').count()) === inGit.length, 500).catch(() => undefined);
      const statuses = await tab.locator('#objects li[data-id^="dev/"]').evaluateAll(items => items.map(i => `${(i as any).dataset.id} ${(i as any).dataset.status}`));
      equal(`all ${inGit.length} objects of dev/ in git listed, each in sync`, statuses.sort(), inGit.map(id => `${id} in-sync`));
      const deployment = await tab.locator(`#objects li[data-id="${DEPLOYMENT}"] .summary`).textContent();
      check(`the Deployment's live status: "${deployment?.trim()}"`, /1\/1 ready, 1 updated, 1 available/.test(deployment ?? ''));
      const sts = await tab.locator(`#objects li[data-id="dev/StatefulSet/${NS}/todo-db"] .summary`).textContent();
      check(`the StatefulSet's live status, its claim bound: "${sts?.trim()}"`, /1\/1 ready/.test(sts ?? '') && /Bound/.test(sts ?? ''));
      const [pod] = await webPods();
      const shown = await podInPage(pod);
      equal(`pod ${pod} listed Running and Ready`, shown, { phase: 'Running', ready: 'true' });
      const line = await tab.locator(`#objects li.pod[data-pod="${pod}"] .summary`).textContent();
      check(`pod line has phase, readiness, restarts, node and age: "${line?.trim()}"`, new RegExp(`Running .* Ready .* 0 restarts .* ${cluster.nodes[0]} .* \\d+[smh]`).test(line ?? ''));
      const font = await tab.evaluate(() => { const v = (globalThis as any).gitopsView; return v.fontPx * v.cy.zoom(); });
      check(`graph labels legible at 1280x800: ${font.toFixed(1)} px`, font >= 11);
      fs.mkdirSync(path.join(ROOT, 'test-reports'), { recursive: true });
      await tab.screenshot({ path: path.join(ROOT, 'test-reports', 'live-view.png') });
    }],
  ]);
  if (!served) {
    skipSteps(['drift', 'pod', 'log'], 'the view is not there');
    return;
  }

  await section([
    [`drift: the Deployment scaled to 2 by hand shows as drifted (spec.replicas) within ${DRIFT_LIMIT_MS / 1000}s; scaled back, in sync again`, async () => {
      const item = `#objects li[data-id="${DEPLOYMENT}"]`;
      const started = Date.now();
      await kube.run(['-n', NS, 'scale', 'deployment/todo', '--replicas=2']);
      const seen = await tab.waitForSelector(`${item}[data-status="drifted"]`, { timeout: DRIFT_LIMIT_MS }).then(() => true, () => false);
      check('shown as drifted', seen, `status ${await tab.locator(item).getAttribute('data-status')}`);
      timing('scale to drift shown', (Date.now() - started) / 1000);
      await tab.locator(item).click();
      const panel = await tab.locator('#live-status').textContent();
      check(`the panel names the field: "${panel}"`, /spec\.replicas/.test(panel ?? ''));
      await kube.run(['-n', NS, 'scale', 'deployment/todo', '--replicas=1']);
      check('in sync again once scaled back', await tab.waitForSelector(`${item}[data-status="in-sync"]`, { timeout: DRIFT_LIMIT_MS }).then(() => true, () => false));
      await kube.run(['-n', NS, 'rollout', 'status', 'deployment/todo', '--timeout=120s']);
    }],
    ['a pod deleted: the page shows it going and its replacement becoming Ready', async () => {
      await waitFor('one web pod', 60_000, async () => (await webPods()).length === 1, 500);
      const [old] = await webPods();
      await waitFor(`${old} listed Ready`, 10_000, async () => (await podInPage(old))?.ready === 'true', 250);
      const started = Date.now();
      await kube.run(['-n', NS, 'delete', 'pod', old, '--wait=false']);
      let terminating = false;
      let replacement = '';
      await waitFor('the old pod gone from the page and a new one Ready', READY_LIMIT_S * 1000, async () => {
        const before = await podInPage(old);
        if (before?.phase === 'Terminating') terminating = true;
        const names = await tab.locator('#objects li.pod').evaluateAll(items => items.map(i => (i as any).dataset.pod as string));
        replacement = names.find(n => n.startsWith('todo-') && !n.startsWith('todo-db') && n !== old) ?? '';
        return before === undefined && replacement !== '' && (await podInPage(replacement))?.ready === 'true';
      }, 250);
      check(`${old} shown Terminating, then gone`, terminating);
      check(`its replacement ${replacement} shown Running and Ready`, (await podInPage(replacement))?.phase === 'Running');
      timing('pod deleted to replacement Ready in the page', (Date.now() - started) / 1000);
    }],
    ['a pod\'s log (followed) shows a request made during the test through kubectl port-forward; no console error; no request to another origin; Ctrl-C stops the view and its kubectl', async () => {
      const [pod] = await webPods();
      await tab.locator(`#objects li.pod[data-pod="${pod}"]`).click();
      await tab.waitForSelector('#log');
      const marker = `/e2e-live-view-${Date.now()}`;
      const status = await withPortForward(kube, NS, `pod/${pod}`, 8080, async port => (await fetch(`http://127.0.0.1:${port}${marker}`)).status);
      equal(`GET ${marker} through kubectl port-forward answers 404`, status, 404);
      const started = Date.now();
      const seen = await tab.waitForFunction(m => ((globalThis as any).document.getElementById('log')?.textContent ?? '').includes(m), marker, { timeout: 15_000 })
        .then(() => true, () => false);
      check(`the followed log of ${pod} shows "${marker}"`, seen, (await tab.locator('#log').textContent())?.slice(-600));
      timing('request to its line in the followed log', (Date.now() - started) / 1000);
      // The events are read by their own request when the pod is opened; wait for it rather than race it.
      await tab.waitForFunction(() => !/loading/.test((globalThis as any).document.getElementById('events')?.textContent ?? 'loading'), undefined, { timeout: 10_000 })
        .catch(() => undefined);
      const events = await tab.locator('#events').textContent();
      check(`the pod's recent events shown: "${events?.slice(0, 100)}"`, /Scheduled|Pulled|Created|Started/.test(events ?? ''));

      equal('no console error in the page', consoleErrors, []);
      const origin = new URL(viewUrl).origin;
      equal('no request to another origin', requests.filter(r => !r.startsWith(`${origin}/`)), []);

      const group = view!.pid!;
      const how = await stopView();
      // npm itself dies of the SIGINT; the view's own node process says it stops, and leaves nothing behind (below).
      check(`view --cluster stops on Ctrl-C (npm: ${how})`, ['0', '130', 'SIGINT'].includes(how) && /SIGINT: stopping/.test(viewStderr), viewStderr.slice(-800));
      check('no warning from the view', !/Warning/.test(viewStderr), viewStderr.slice(-800));
      await sleep(500);
      const left = await run('pgrep', ['-g', String(group)], { allowFail: true });
      equal('no process of the view left (its kubectl children killed)', left.stdout.trim(), '');
      const lost = await tab.waitForSelector('#connection.lost', { timeout: 10_000 }).then(() => true, () => false);
      check(`the page says the connection is lost: "${await tab.locator('#connection').textContent()}"`, lost);
    }],
  ]);

  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
