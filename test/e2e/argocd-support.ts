/**
 * Argo CD for the end-to-end suites (test/e2e/argocd.ts, test/e2e/fleet.ts):
 * a git repository served from file://, the objects argocd-server and the
 * install manifests normally provide, redis + repo-server +
 * application-controller (+ applicationset-controller) started as processes
 * against a control plane, and reading Applications' sync and health.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as YAML from 'yaml';
import { K8sObject, Kubectl, createOutOfBandSecrets, persistentVolumes } from './cluster-support';
import { check, freePort, onCleanup, progress, run, sleep, stopProcess, waitFor } from './harness';

/** The namespace Argo CD runs in. */
export const ARGOCD_NS = 'argocd';

/** A local git repository Argo CD clones from `file://<dir>`, committed to by the test. */
export class ServedRepository {
  /** The URL Argo CD clones. */
  public readonly url: string;

  constructor(public readonly dir: string, private readonly toolEnv: NodeJS.ProcessEnv) {
    this.url = `file://${dir}`;
  }

  public git(args: string[], allowFail = false) {
    return run('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
      cwd: this.dir,
      allowFail,
      env: {
        ...this.toolEnv,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'e2e',
        GIT_AUTHOR_EMAIL: 'e2e@127.0.0.1',
        GIT_COMMITTER_NAME: 'e2e',
        GIT_COMMITTER_EMAIL: 'e2e@127.0.0.1',
      },
    });
  }

  /** Clones `source` (its HEAD) into the served directory, on branch `branch`. */
  public async cloneFrom(source: string, branch: string): Promise<void> {
    await run('git', ['clone', '-q', '--no-hardlinks', source, this.dir], { env: this.toolEnv });
    await this.git(['checkout', '-q', '-B', branch]);
  }

  /** Commits everything; returns the new revision. */
  public async commitAll(message: string): Promise<string> {
    await this.git(['add', '-A']);
    await this.git(['commit', '-q', '-m', message]);
    return (await this.git(['rev-parse', 'HEAD'])).stdout.trim();
  }

  /** Checks that `git ls-remote` of the URL shows `revision` on `branch`, as the repo-server will see it. */
  public async checkServed(branch: string, revision: string): Promise<void> {
    const heads = (await run('git', ['ls-remote', this.url, branch], { env: this.toolEnv })).stdout;
    check(`git ls-remote ${this.url} ${branch} is ${revision.slice(0, 8)}`, heads.startsWith(revision), heads);
  }
}

/** What argocd-server and the install manifests normally provide: settings, secret key, the default project. */
export function argoCdBaseObjects(): string {
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGOCD_NS } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cm', namespace: ARGOCD_NS, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
      data: {},
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'argocd-secret', namespace: ARGOCD_NS, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
      stringData: { 'server.secretkey': Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64') },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: 'default', namespace: ARGOCD_NS },
      spec: { sourceRepos: ['*'], destinations: [{ namespace: '*', server: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] },
    },
  ];
  return objects.map(o => YAML.stringify(o)).join('---\n');
}

interface Daemon { readonly name: string; readonly child: ChildProcess; readonly logTail: () => string }

/**
 * What the README has users do before bootstrapping an environment into `ns`
 * of a cluster: create the Secrets its objects reference but do not carry
 * (the database credentials of staging and prod) with kubectl; and, as the
 * test clusters have no volume provisioner, PersistentVolumes pre-bound to
 * every claim.
 */
export async function prepareEnvironment(kube: Kubectl, ns: string, objects: K8sObject[]): Promise<void> {
  await createOutOfBandSecrets(kube, ns, objects);
  const pvs = persistentVolumes(ns, objects);
  // A CloudNativePG Cluster's claims are the operator's, made when it runs instances: none here.
  if (!pvs.length) {
    check(`${ns}: no PersistentVolumeClaim or StatefulSet claim template in git, no PersistentVolume to pre-bind`, true);
    return;
  }
  const r = await kube.apply(pvs.map(pv => YAML.stringify(pv)).join('---\n'), 'e2e');
  check(`${ns}: ${pvs.length} PersistentVolume(s) pre-bound to its claims (the cluster has no provisioner)`, r.code === 0, r.stderr);
}

/** Starts a long-running component with its output in `tmp`/<name>.log; stopped by a cleanup. */
function startDaemon(tmp: string, name: string, file: string, args: string[], env: NodeJS.ProcessEnv): Daemon {
  const logFile = path.join(tmp, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(file, args, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  // A command that cannot start (not on PATH) emits 'error' rather than exiting.
  let startError: Error | undefined;
  child.on('error', e => { startError = e; });
  onCleanup(`stop ${name}`, async () => { await stopProcess(child, 10_000); });
  const logTail = () => [startError?.message, ...fs.readFileSync(logFile, 'utf-8').trim().split('\n').slice(-8)].filter(Boolean).join('\n');
  return { name, child, logTail };
}

async function waitListening(what: string, port: number, child: ChildProcess, logTail: () => string): Promise<void> {
  await waitFor(`${what} on 127.0.0.1:${port}`, 60_000, async () => {
    if (child.exitCode !== null || child.pid === undefined) throw new Error(`${what} exited ${child.exitCode ?? '(never started)'}:\n${logTail()}`);
    return new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
  }, 500);
  check(`${what} listens on 127.0.0.1:${port}`, true);
}

/** Options of {@link startArgoCd}. */
export interface ArgoCdOptions {
  /** Also run the applicationset-controller. */
  readonly applicationSets?: boolean;
  /** Told each process as it starts (a program that leaves them running records their pids). */
  readonly onStart?: (name: string, pid: number) => void;
}

/**
 * Starts redis, argocd-repo-server and argocd-application-controller (and the
 * applicationset-controller) as processes of this machine against the
 * cluster of `kube`, logs in `tmp`; every one is stopped by a cleanup. The
 * controllers run with ARGOCD_FAKE_IN_CLUSTER, so https://kubernetes.default.svc
 * is that cluster. The cluster needs the CRDs and {@link argoCdBaseObjects}.
 */
export async function startArgoCd(tmp: string, kube: Kubectl, toolEnv: NodeJS.ProcessEnv, options: ArgoCdOptions = {}): Promise<void> {
  // The cluster's kubeconfig, with the tools' PATH (Argo CD's binaries may have been installed after the cluster started).
  const argoEnv: NodeJS.ProcessEnv = { ...kube.env, PATH: toolEnv.PATH, ARGOCD_GPG_ENABLED: 'false', TMPDIR: path.join(tmp, 'argocd-tmp') };
  fs.mkdirSync(argoEnv.TMPDIR!);

  const redisPort = await freePort();
  fs.mkdirSync(path.join(tmp, 'redis'));
  const started = (d: Daemon) => options.onStart?.(d.name, d.child.pid!);
  const redis = startDaemon(tmp, 'redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', path.join(tmp, 'redis')], toolEnv);
  started(redis);
  await waitListening('redis-server', redisPort, redis.child, redis.logTail);

  const repoPort = await freePort();
  const repoServer = startDaemon(tmp, 'argocd-repo-server', 'argocd-repo-server', ['--disable-tls', '--client-ca-path=',
    '--address', '127.0.0.1', '--port', String(repoPort), '--metrics-address', '127.0.0.1', '--metrics-port', String(await freePort()),
    '--redis', `127.0.0.1:${redisPort}`, '--loglevel', 'info'], argoEnv);
  started(repoServer);
  await waitListening('argocd-repo-server', repoPort, repoServer.child, repoServer.logTail);

  const controller = startDaemon(tmp, 'argocd-application-controller', 'argocd-application-controller', [
    '--kubeconfig', kube.env.KUBECONFIG!, '--namespace', ARGOCD_NS, '--redis', `127.0.0.1:${redisPort}`,
    '--repo-server', `127.0.0.1:${repoPort}`, '--repo-server-plaintext', '--metrics-port', String(await freePort()),
    // Keep each resource's health in the Application (3.x keeps it only in redis by default), to name what is unhealthy.
    '--persist-resource-health', '--loglevel', 'info',
  ], { ...argoEnv, ARGOCD_FAKE_IN_CLUSTER: 'true' });
  started(controller);

  if (options.applicationSets) {
    const probePort = await freePort();
    const appSets = startDaemon(tmp, 'argocd-applicationset-controller', 'argocd-applicationset-controller', [
      '--kubeconfig', kube.env.KUBECONFIG!, '--namespace', ARGOCD_NS,
      '--argocd-repo-server', `127.0.0.1:${repoPort}`, '--repo-server-plaintext',
      '--metrics-addr', `127.0.0.1:${await freePort()}`, '--probe-addr', `127.0.0.1:${probePort}`,
      '--webhook-addr', `127.0.0.1:${await freePort()}`, '--loglevel', 'info',
    ], { ...argoEnv, ARGOCD_FAKE_IN_CLUSTER: 'true' });
    started(appSets);
    await waitListening('argocd-applicationset-controller (probe)', probePort, appSets.child, appSets.logTail);
  }
  await sleep(3000);
  if (!check('argocd-application-controller is running', controller.child.exitCode === null, controller.logTail())) {
    throw new Error('argocd-application-controller exited');
  }
  const version = (await run('argocd-application-controller', ['version'], { env: toolEnv, allowFail: true })).stdout.trim();
  progress(`  ${version.split('\n')[0] || 'argocd-application-controller (no version output)'}`);
}

/** Resources of an Application that have a health status other than Healthy. */
export function unhealthyResources(app: any): string[] {
  return (app?.status?.resources ?? []).filter((r: any) => r.health && r.health.status !== 'Healthy')
    .map((r: any) => `${r.kind}/${r.name}: ${r.health.status}${r.health.message ? ` (${r.health.message})` : ''}`);
}

/**
 * Prod's HPA cannot be Healthy here: the cluster has no metrics API, so the HPA
 * controller reports ScalingActive=False/FailedGetResourceMetric, which Argo CD
 * maps to Degraded. It is accepted only when it is the single unhealthy resource.
 */
export function onlyHpaWithoutMetrics(app: any): boolean {
  const bad = unhealthyResources(app);
  return bad.length === 1 && /^HorizontalPodAutoscaler\/todo: Degraded \(.*(metrics|cpu utilization)/.test(bad[0]);
}

/** Synced (at `revision`, if given), no operation running, and Healthy (or prod's accepted HPA). */
export function settled(app: any, revision?: string): boolean {
  const s = app?.status;
  if (!s || s.sync?.status !== 'Synced') return false;
  if (revision && s.sync.revision !== revision) return false;
  if (app.operation || s.operationState?.phase === 'Running') return false;
  return s.health?.status === 'Healthy' || onlyHpaWithoutMetrics(app);
}

/** One line on an Application's sync, health, operation, conditions and unhealthy resources. */
export function describeApplication(app: any): string {
  const s = app?.status ?? {};
  return `sync ${s.sync?.status} @ ${String(s.sync?.revision).slice(0, 8)}, health ${s.health?.status}, operation ${s.operationState?.phase ?? '-'}` +
    `${s.operationState?.message ? ` (${String(s.operationState.message).slice(0, 300)})` : ''}` +
    `${(s.conditions ?? []).length ? `, conditions: ${s.conditions.map((c: any) => `${c.type}: ${c.message}`).join('; ')}` : ''}` +
    `${unhealthyResources(app).length ? `, unhealthy: ${unhealthyResources(app).join('; ')}` : ''}`;
}

/** The resources of an Application that are not Synced, with their status. */
export function outOfSyncResources(app: any): string[] {
  return (app?.status?.resources ?? []).filter((r: any) => r.status !== 'Synced').map((r: any) => `${r.kind}/${r.name}: ${r.status}`);
}

/** An Application read after a hard refresh, and when it had been reconciled before the refresh. */
export interface HardRefreshed {
  readonly app: any;
  readonly reconciledBefore?: string;
}

/** Plays the ingress controller a test cluster lacks: gives every Ingress of `ns` a load-balancer address. */
export async function admitIngresses(kube: Kubectl, ns: string): Promise<void> {
  const list = await kube.run(['-n', ns, 'get', 'ingress', '-o', 'json'], { allowFail: true });
  if (list.code !== 0) return;
  for (const ing of JSON.parse(list.stdout).items as any[]) {
    if ((ing.status?.loadBalancer?.ingress ?? []).length) continue;
    await kube.run(['-n', ns, 'patch', 'ingress', ing.metadata.name, '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } })], { allowFail: true });
  }
}

/** Reads and refreshes the Applications in Argo CD's namespace of the cluster of `kube`. */
export class Applications {
  /** Called with every Application read. */
  public onRead: (app: any) => void;

  constructor(private readonly kube: Kubectl) {
    this.onRead = () => undefined;
  }

  /** The Application, or undefined when it does not exist. */
  public async get(name: string): Promise<any | undefined> {
    const r = await this.kube.run(['-n', ARGOCD_NS, 'get', 'application', name, '-o', 'json'], { allowFail: true });
    if (r.code !== 0) return undefined;
    const app = JSON.parse(r.stdout);
    this.onRead(app);
    return app;
  }

  /** The names of the Applications that exist. */
  public async names(): Promise<string[]> {
    const list = await this.kube.json(['-n', ARGOCD_NS, 'get', 'applications']);
    return (list.items as any[]).map(a => a.metadata.name).sort();
  }

  /** Asks Argo CD to re-read git now, as its git webhook does on a push. */
  public async refresh(names: string[], kind: 'normal' | 'hard'): Promise<void> {
    for (const name of names) {
      await this.kube.run(['-n', ARGOCD_NS, 'annotate', 'application', name, `argocd.argoproj.io/refresh=${kind}`, '--overwrite']);
    }
  }

  /**
   * A hard refresh (`argocd.argoproj.io/refresh: hard`: the manifests generated
   * again, not taken from the cache) of each Application; waits until Argo CD
   * has taken the request (the annotation removed), then a second for its
   * comparison. Returns each Application as it is then, with its `reconciledAt`
   * before the refresh to tell that it was reconciled again.
   */
  public async hardRefresh(names: string[]): Promise<HardRefreshed[]> {
    const before = await Promise.all(names.map(async n => (await this.get(n))?.status?.reconciledAt as string | undefined));
    await this.refresh(names, 'hard');
    await waitFor(`the hard refresh of ${names.join(', ')} to be processed`, 60_000, async () => {
      const refreshed = await Promise.all(names.map(n => this.get(n)));
      return refreshed.every(a => !a?.metadata?.annotations?.['argocd.argoproj.io/refresh']);
    }, 500);
    await sleep(1000);
    return Promise.all(names.map(async (n, i) => ({ app: await this.get(n), reconciledBefore: before[i] })));
  }

  /**
   * Turns automated sync (and with it self-heal) off, as before repairing by
   * hand what git would otherwise put back; a root Application that syncs
   * these must be among them, or it restores their syncPolicy from git.
   */
  public async disableAutoSync(names: string[]): Promise<void> {
    for (const name of names) {
      await this.kube.run(['-n', ARGOCD_NS, 'patch', 'application', name, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/syncPolicy/automated' }])]);
    }
  }

  /**
   * Waits until each Application has settled (at `revision`); returns seconds since `since`.
   * `everyPoll` runs before each look (the tests admit Ingresses there).
   */
  public async waitSettled(names: string[], limitS: number, since: number, revision?: string,
    everyPoll: () => Promise<void> = async () => undefined): Promise<number> {
    const last: Record<string, any> = {};
    try {
      await waitFor(`${names.join(', ')} Synced${revision ? ` at ${revision.slice(0, 8)}` : ''} and Healthy`, limitS * 1000 - (Date.now() - since), async () => {
        await everyPoll();
        let all = true;
        for (const name of names) {
          last[name] = await this.get(name);
          all = settled(last[name], revision) && all;
        }
        return all;
      }, 1000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${names.map(n => `${n}: ${last[n] ? describeApplication(last[n]) : 'does not exist'}`).join('\n')}`);
    }
    return (Date.now() - since) / 1000;
  }
}
