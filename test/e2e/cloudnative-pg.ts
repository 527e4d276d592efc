/**
 * Postgres on CloudNativePG on several nodes (issue 18): the multi-node
 * cluster program (three worker nodes of Kubernetes v1.37.2), the operator
 * from the tree's platform part (its image built here from the Go module and
 * pinned by digest), and prod of the todo tree as committed (CloudNativePG,
 * three instances, one synchronous standby required, the sealed login,
 * continuous backup with a sealed key), applied as Argo CD does. The suite's
 * tree holds prod only, and reads its own sealed files and object store
 * through the tree's knobs (SEALED_SECRETS_DIR, TODO_BACKUP_ENDPOINT,
 * TODO_REPO_URL). A writer in a client pod sends PUT /tasks to the web Service
 * the whole time and records every write the service acknowledged; after
 * each drill the database must hold every one of them.
 *
 * - the cluster: three instances on three nodes, one primary, the login
 *   sealed for the suite's controller, the web tier connected through `todo-db-rw`;
 * - the web tier's drills (test/e2e/web-tier-drills.ts) in the same cluster:
 *   placement, drains under the PodDisruptionBudget, autoscaling with
 *   metrics-server, a node loss and its return;
 * - Argo CD (v3.6.1, real: redis, repo-server and application-controller as
 *   processes here) takes over from a git repository holding the suite's tree:
 *   the platform and prod Applications Synced and Healthy, the `Cluster`
 *   Healthy by Argo CD's own health check, nothing OutOfSync after hard
 *   refreshes;
 * - rolling update: a new digest of the Postgres image committed under writes;
 *   Argo CD syncs it, the operator updates the standbys and switches over:
 *   seconds to every instance on the new digest, the old primary's shutdown,
 *   failed writes, 0 acknowledged missing;
 * - failover: the primary's pod deleted under writes: a standby promoted,
 *   seconds until writes succeed again, failed writes, 0 acknowledged missing;
 * - node loss: every process of the primary's node killed under writes:
 *   the same figures, and the cluster healed once the node returns;
 * - point-in-time restore after a bad write, as the README's runbook says:
 *   the cluster archives its WAL and base backups to an object store in the
 *   cluster (versitygw); writes, a moment T, more writes, the table dropped;
 *   Argo CD's auto-sync turned off, the Cluster deleted; prod's restore to T
 *   synthesized and committed, `dist/bootstrap/` applied (auto-sync back on):
 *   Argo CD creates the restored cluster, which must hold exactly what was
 *   committed before T;
 * - unplanned total loss: the whole namespace deleted (instances, volumes,
 *   Secrets) while the writer writes, with no WAL switch first; restored
 *   through git to the end of the archived WAL: every earlier task back, the
 *   restored writes a prefix of the acknowledged ones, the acknowledged
 *   writes lost (the RPO) and the time to serve again (the RTO).
 *
 *   sudo npx ts-node test/e2e/cloudnative-pg.ts   # root; about 20 minutes with tools cached
 *
 * Prints "[e2e i/N] ..." and ends with "N passed, N failed".
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  Applications, ServedRepository, admitIngresses, argoCdBaseObjects, describeApplication, outOfSyncResources, settled, startArgoCd,
} from './argocd-support';
import { ARGOCD_CRDS, ARGO_MANAGER, K8sObject, Kubectl, applyEnvironmentAsArgo, distObjects, installCrds } from './cluster-support';
import { expectedClusterWarning } from './cnpg-support';
import { ROOT, check, e2eMain, equal, inBackground, installTools, progress, recordTiming, run, section, skipSteps, sleep, waitFor } from './harness';
import { ClusterObjectStore, clusterStores, startObjectStore } from './object-store-support';
import { PROBE, ProbeClients } from './probe-support';
import {
  CLUSTER_POSTGRES_IMAGE, ClusterInstance, NOT_PULLED, NodesCluster, buildTodoImage, clusterInstances, clusterStatus as clusterStatusOf,
  prepullClusterPostgres, startNodesCluster, volumesOnEveryNode, waitClusterHealthy, withLocalImages,
} from './real-cluster-support';
import { makeBaseImage } from './registry-support';
import { applyPlatformAsArgo, sealBackupKey, sealDatabaseLogins, waitSealedStatus } from './sealed-secrets-support';
import { WEB_TIER_STEPS, webTierDrills } from './web-tier-drills';
import { CredentialsSource, GitOpsEnvironment, GitOpsPlatform, GitOpsRepository, ImageLock, ImageLockDocument } from '../../src';
// Types only: the tree's modules are loaded by loadTodoTree, once the knobs they read are set.
import type { TodoSettings } from '../../todo/environments';
import { buildTodoStack } from '../../todo/todo-stack';
import { CLUSTER_TOOLS } from '../tools/cluster/cluster';

const STEPS = 10 + WEB_TIER_STEPS.length;
const NODES = 3;
const ENV = 'prod';
const CLUSTER_NAME = 'todo-db';
/** The namespace prod's web NetworkPolicy admits clients from (the Ingress controller's). */
const CLIENT_NS = 'ingress-nginx';
const CLIENT = 'writer';
/**
 * Most seconds of writes around a failover (the primary's pod killed): the operator's detection,
 * the promotion, the Service following. They stop STEADY_WRITES_S after the first write the new
 * primary acknowledged.
 */
const FAILOVER_WRITES_S = 90;
/** Most seconds of writes around a node loss: as a failover's, with the node controller's grace period before it. */
const NODE_LOSS_WRITES_S = 150;
/** Seconds of writes to the new primary before a failover's writes stop. */
const STEADY_WRITES_S = 5;
/** Local volumes per node: an instance each, the two restored clusters', and a spare for an instance a drill recreates. */
const VOLUMES_PER_NODE = 4;
/** The object store's namespace; its pod runs on the writer's node, which no drill stops. */
const STORE_NS = 'backup-store';
/** prod's sealed Secrets: the login and the object store's key. */
const SEALED_SECRETS = ['todo-db-credentials', 'todo-db-backup'];

/** Argo CD's Applications: the root (dist/apps), the platform part with the operator (sync wave -1), prod. */
const ROOT_APP = 'todo-root';
const PLATFORM_APP = 'todo-platform';
const PROD_APP = `todo-${ENV}`;
/** dist/bootstrap/ applied to the platform and prod Synced and Healthy: Argo CD adopts what the as-Argo applies made. */
const ARGO_ADOPT_LIMIT_S = 180;
const HARD_REFRESHES = 2;
const HARD_REFRESH_SPACING_S = 5;
/**
 * At most this long from the commit of a new Postgres digest to every instance on it: three pods
 * recreated one after another and a switchover. The writes around it stop as soon as it is over.
 */
const ROLLING_UPDATE_LIMIT_S = 240;
/** Seconds of writes on each side of the point-in-time restore's target T. */
const PITR_WRITES_S = 6;
/** At most this long from the restore's commit to prod Synced and Healthy: the Cluster recovered (base backup, WAL replayed) and two standbys cloned. */
const RESTORE_LIMIT_S = 600;
/**
 * Seconds of writes, beyond prod's `archive_timeout`, before the unplanned total loss: long enough
 * for the timeout to archive a segment in the middle of them, and for what follows to be lost.
 */
const TOTAL_LOSS_EXTRA_WRITES_S = 20;
/** At most this long from a WAL segment's switch to its upload by barman-cloud-wal-archive being acknowledged. */
const ARCHIVE_LAG_S = 15;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cnpg-'));
/** The repository Argo CD clones (from file://): the tree the suite synthesizes, and its lock, committed. */
const REPO = path.join(tmp, 'tree');
const REPO_URL = `file://${REPO}`;
const TREE = path.join(REPO, 'dist');
const LOCK = path.join(REPO, 'images.lock.json');
/** The tree `npm run build:image` synthesized with the committed sealed files: its platform is applied before anything is sealed. */
const FIRST_TREE = path.join(tmp, 'committed', 'dist');
/** prod's login and backup key sealed for this cluster's controller (the tree's SEALED_SECRETS_DIR). */
const SEALED_DIR = path.join(tmp, 'sealed-secrets');
let toolEnv: NodeJS.ProcessEnv = process.env;
/** toolEnv with Argo CD's binaries too, built beside the steps that do not need them (inBackground's). */
let argoToolEnv: () => Promise<NodeJS.ProcessEnv> = () => Promise.reject(new Error('Argo CD was not installed'));
let cluster: NodesCluster;
let kube = new Kubectl(process.env);
let served = new ServedRepository(REPO, process.env);
let apps = new Applications(kube);
/** Argo CD starts beside prod's first apply (seconds, where the Cluster takes minutes): resolves to its error, if any. */
let argoStarting: Promise<Error | undefined> = Promise.resolve(new Error('Argo CD was not started'));
/** Every node's kubelet pulling the Postgres image while the platform is applied (prepullClusterPostgres's). */
let postgresPulled = NOT_PULLED;
/** The local PersistentVolumes of the instances, made while the platform is applied (inBackground's). */
let volumesMade: () => Promise<void> = () => Promise.reject(new Error('the PersistentVolumes were not made'));
/** Argo CD runs and its Applications exist: prod is synced from git from then on. */
let argoUp = false;
let clients: ProbeClients;
let store: ClusterObjectStore;
let ns = '';
const namespaces: Record<string, string> = {};
const timings: string[] = [];

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

/** The todo tree as loaded by {@link loadTodoTree}: prod as committed, where Argo CD reads git, the platform part. */
interface TodoTree {
  readonly prod: GitOpsEnvironment<TodoSettings>;
  readonly git: { readonly repoUrl: string; readonly targetRevision: string };
  readonly platform: GitOpsPlatform;
}
let todo: TodoTree;

/**
 * Loads the todo tree's modules with `knobs` set in this process's
 * environment first, as `npm run synth` reads them from its own: the tree
 * reads them once, when loaded, so nothing in this suite imports it before.
 */
async function loadTodoTree(knobs: Record<string, string>): Promise<TodoTree> {
  Object.assign(process.env, knobs);
  const { TODO_ENVIRONMENTS, TODO_GIT } = await import('../../todo/environments');
  const { TODO_PLATFORM } = await import('../../todo/repository');
  return { prod: TODO_ENVIRONMENTS.find(e => e.name === ENV)!, git: TODO_GIT, platform: TODO_PLATFORM };
}

/**
 * prod as committed (with the suite's knobs), but for `settings`, alone in a
 * tree synthesized into TREE with the local lock: the other environments
 * would take the three nodes' volumes and cores the drills need.
 */
function synthProd(settings: Partial<TodoSettings> = {}): void {
  const prod = { ...todo.prod, settings: { ...todo.prod.settings, ...settings } };
  new GitOpsRepository<TodoSettings>({ name: 'todo', ...todo.git, environments: [prod], stack: buildTodoStack, platform: todo.platform })
    .synth({ outdir: TREE, lock: ImageLock.fromFile(LOCK) });
}

/** The lock with the Postgres image's own tag (CloudNativePG reads the version from it). */
async function withPostgresTag(lock: ImageLockDocument): Promise<ImageLockDocument> {
  const image = lock.images[CLUSTER_POSTGRES_IMAGE];
  const tags = (await run('crane', ['ls', '--insecure', image.repository], { env: toolEnv })).stdout.trim().split('\n');
  const tag = tags.find(t => /^[0-9]+\./.test(t));
  check(`the Postgres image's tag starts with its version: ${tag}`, tag !== undefined, tags.join(' '));
  return { ...lock, images: { ...lock.images, [CLUSTER_POSTGRES_IMAGE]: { ...image, tag: tag! } } };
}

/** The Cluster's instance pods, with their node, role, readiness and Postgres image (real-cluster-support's, for this suite's cluster). */
const instances = () => clusterInstances(kube, ns, CLUSTER_NAME);

/** The Cluster's status: current primary, ready instances and phase. */
const clusterStatus = () => clusterStatusOf(kube, ns, CLUSTER_NAME);

/** The operator's last log lines about the cluster, for failure messages. */
async function operatorLog(): Promise<string> {
  const r = await kube.run(['-n', 'cnpg-system', 'logs', 'deployment/cnpg-controller-manager', '--tail=400'], { allowFail: true });
  return r.stdout.split('\n').filter(l => l.includes(CLUSTER_NAME) && !l.includes('"level":"debug"')).slice(-25).map(l => l.slice(0, 400)).join('\n');
}

/** The nodes of the operator's pods: the leader's (its lease's holder) and the others'. */
async function operatorNodes(): Promise<{ leader: string; others: string[] }> {
  const leases = (await kube.json(['-n', 'cnpg-system', 'get', 'leases'])).items as K8sObject[];
  const holders = leases.map(l => String(l.spec?.holderIdentity ?? ''));
  const pods = (await kube.json(['-n', 'cnpg-system', 'get', 'pods', '-l', 'app.kubernetes.io/name=cloudnative-pg'])).items as K8sObject[];
  const leader = pods.find(p => holders.some(h => h.startsWith(p.metadata.name)));
  return { leader: leader?.spec.nodeName ?? '(none)', others: pods.filter(p => p !== leader).map(p => p.spec.nodeName) };
}

/** Waits for the Cluster's three instances ready and its phase healthy. */
const healthy = (timeoutS: number) => waitClusterHealthy(kube, ns, CLUSTER_NAME, 3, timeoutS);

interface WriteResult { sent: number; acked: string[]; failedAt: number[]; ackedAt: number[]; output: string }

/** Writes under way: `done` when they end, `stop()` to end them, `lastAck()` the time of the newest acknowledged so far. */
interface Writes { done: Promise<WriteResult>; stop: () => void; lastAck: () => number }

/**
 * Starts `probe writes` from the client pod to the web Service's ClusterIP
 * for `seconds`; `done` resolves when it ends (a bare Promise would be
 * awaited by the caller's `await`, which must not wait for the writes).
 * With `untilStopped`, `seconds` is an upper bound and `stop()` ends the
 * writes (kubectl's stdin closed: the probe stops at its end).
 */
async function startWrites(seconds: number, prefix: string, untilStopped = false): Promise<Writes> {
  const clusterIp = (await kube.json(['-n', ns, 'get', 'service', 'todo'])).spec.clusterIP;
  const out: string[] = [];
  const child = spawn('kubectl', ['-n', CLIENT_NS, 'exec', ...(untilStopped ? ['-i'] : []), CLIENT, '--', PROBE, 'writes', `http://${clusterIp}/tasks`, String(seconds), prefix,
    ...(untilStopped ? ['until-eof'] : [])], { env: kube.env });
  child.stdout.on('data', d => out.push(String(d)));
  child.stderr.on('data', d => out.push(String(d)));
  const done = new Promise<WriteResult>(resolve => child.on('exit', () => {
    const output = out.join('');
    const lines = output.split('\n');
    const acked = lines.filter(l => l.startsWith('acked ')).map(l => l.split(' ')[1]);
    const ackedAt = lines.filter(l => l.startsWith('acked ')).map(l => Date.parse(l.split(' ')[2]));
    const failedAt = lines.filter(l => l.startsWith('failed ')).map(l => Date.parse(l.split(' ')[2].replace(/:$/, '')));
    // Without the probe's summary (kubectl stopped below), what it printed for each write.
    const sent = Number(/writes=(\d+)/.exec(output)?.[1] ?? acked.length + failedAt.length);
    resolve({ sent, acked, failedAt, ackedAt, output });
  }));
  const stop = () => {
    child.stdin.end();
    // Should the end of stdin not reach the probe, the writes are not awaited for their whole time.
    setTimeout(() => child.kill(), 15_000).unref();
  };
  const lastAck = () => Math.max(0, ...out.join('').split('\n').filter(l => l.startsWith('acked '))
    .map(l => Date.parse(l.split(' ')[2])).filter(t => !Number.isNaN(t)));
  return { done, stop, lastAck };
}

/** Runs `sql` with psql on the current primary; its rows, one per line. */
async function onPrimary(sql: string): Promise<string[]> {
  const { primary } = await clusterStatus();
  const r = await kube.run(['-n', ns, 'exec', primary, '-c', 'postgres', '--', 'psql', '-d', 'todo', '-At', '-c', sql]);
  return r.stdout.split('\n').filter(n => n !== '');
}

/** Every task name in the database, read on the current primary. */
async function storedNames(): Promise<Set<string>> {
  return new Set(await onPrimary('SELECT name FROM tasks'));
}

/**
 * The Cluster's Backups that completed, and where each went. The in-tree backup records its
 * destinationPath; a Barman Cloud plugin's Backup records the UID of the cluster it backed up
 * (`status.pluginMetadata.clusterUID`), and went to where that cluster archives: its ObjectStore's
 * destinationPath (undefined for a Backup of an earlier cluster of the same name).
 */
async function completedBackups(): Promise<Array<{ name: string; destinationPath: string | undefined }>> {
  const backups = ((await kube.json(['-n', ns, 'get', 'backups.postgresql.cnpg.io'])).items as K8sObject[]).filter(b => b.status?.phase === 'completed');
  const live = backups.some(b => !b.status.destinationPath) ? await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', CLUSTER_NAME]) : undefined;
  const archive = live && (await clusterStores(live, name => kube.json(['-n', ns, 'get', 'objectstores.barmancloud.cnpg.io', name]))).archive;
  return backups.map(b => ({
    name: b.metadata.name,
    destinationPath: b.status.destinationPath ?? (b.status.pluginMetadata?.clusterUID === live?.metadata.uid ? archive?.destinationPath : undefined),
  }));
}

/**
 * Reports a drill's writes: how many were sent, failed and acknowledged, the
 * longest time without an acknowledged write after `started` (the outage),
 * and checks that the database holds every acknowledged write.
 */
async function reportWrites(drill: string, started: number, result: WriteResult): Promise<void> {
  const after = result.ackedAt.filter(t => t >= started);
  let outage = 0;
  let previous = started;
  for (const t of after) {
    outage = Math.max(outage, t - previous);
    previous = t;
  }
  const stored = await storedNames();
  const missing = result.acked.filter(n => !stored.has(n));
  progress(`  writes: sent=${result.sent} acknowledged=${result.acked.length} failed=${result.failedAt.length} missing=${missing.length}`);
  timings.push(`${drill}: writes sent ${result.sent}, acknowledged ${result.acked.length}, failed ${result.failedAt.length}, acknowledged but missing ${missing.length}`);
  timing(`${drill}: longest time without an acknowledged write`, outage / 1000);
  check(`${drill}: writes went on after it (${after.length} acknowledged after the fault)`, after.length > 10, result.output.slice(-2000));
  equal(`${drill}: acknowledged writes missing from the database (of ${result.acked.length})`, missing, []);
}

/**
 * Waits (polling every `pollMs`) for a primary other than `previous`, then for the first write it
 * acknowledged, then STEADY_WRITES_S more, and stops the writes; the seconds from `started` to the
 * promotion. Should no write be acknowledged, the writes run to their end and reportWrites' "writes
 * went on after it" fails.
 */
async function promotedUnderWrites(writes: Writes, previous: string, started: number, limitS: number, pollMs: number): Promise<number> {
  let promoted = 0;
  await waitFor('a new primary', limitS * 1000, async () => {
    const now = await clusterStatus();
    if (now.primary && now.primary !== previous) promoted = (Date.now() - started) / 1000;
    return promoted > 0;
  }, pollMs).catch(async e => {
    const nodes = (await kube.run(['get', 'nodes', '-o', 'wide'], { allowFail: true })).stdout;
    const pods = (await kube.run(['-n', ns, 'get', 'pods', '-o', 'wide'], { allowFail: true })).stdout;
    writes.stop();
    throw new Error(`${(e as Error).message}: ${JSON.stringify(await clusterStatus())}\n${nodes}\n${pods}\n${await operatorLog()}`);
  });
  const promotedAt = started + promoted * 1000;
  await waitFor('a write acknowledged by the new primary', limitS * 1000, async () => writes.lastAck() > promotedAt, 500).catch(() => undefined);
  await sleep(STEADY_WRITES_S * 1000);
  writes.stop();
  return promoted;
}

/** Argo CD's CRDs and base objects in the cluster (what its processes, started later, need there). */
async function installArgoCdObjects(): Promise<void> {
  await installCrds(kube, ARGOCD_CRDS);
  const r = await kube.apply(argoCdBaseObjects(), 'e2e');
  check('Argo CD: namespace argocd, argocd-cm, argocd-secret and the default AppProject applied', r.code === 0, r.stderr);
}

/** redis, repo-server and application-controller as processes here. */
async function startArgoCdProcesses(): Promise<void> {
  fs.mkdirSync(path.join(tmp, 'argocd'));
  await startArgoCd(path.join(tmp, 'argocd'), kube, await argoToolEnv());
}

/** The Cluster as the Application lists it: its sync status and the health Argo CD's check for postgresql.cnpg.io/Cluster gave it. */
function clusterInArgo(app: any): { status?: string; health?: string; message?: string } {
  const r = (app?.status?.resources ?? []).find((x: any) => x.group === 'postgresql.cnpg.io' && x.kind === 'Cluster' && x.name === CLUSTER_NAME);
  return { status: r?.status, health: r?.health?.status, message: r?.health?.message };
}

/** Paths below `at` where `a` and `b` differ (at most `limit`), to name a field in a failure message. */
function differingPaths(a: any, b: any, at = '', limit = 12): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (out.length < limit) out.push(...differingPaths(a[k], b[k], `${at}.${k}`, limit - out.length));
    }
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${at}: ${JSON.stringify(a)?.slice(0, 120)} -> ${JSON.stringify(b)?.slice(0, 120)}`];
}

/**
 * For each resource `app` shows OutOfSync, what Argo CD's server-side diff compares: the object
 * of git applied as Argo CD's field manager in a server-side dry run (webhooks included) against
 * the live object, in spec, data and metadata labels and annotations.
 */
async function driftDetail(app: any): Promise<string> {
  const objects = distObjects(String(app.spec.source.path).replace(/^dist\//, ''), TREE);
  const lines: string[] = [];
  for (const r of (app.status?.resources ?? []).filter((x: any) => x.status !== 'Synced')) {
    const want = objects.find(o => o.kind === r.kind && o.metadata.name === r.name);
    if (!want) { lines.push(`${r.kind}/${r.name}: not in git`); continue; }
    const input = JSON.stringify({ ...want, metadata: { ...want.metadata, namespace: r.namespace || undefined } });
    const predicted = await kube.run(['apply', '--server-side', '--dry-run=server', `--field-manager=${ARGO_MANAGER}`, '-o', 'json', '-f', '-'], { input, allowFail: true });
    const live = await kube.run(['get', '-o', 'json', '-f', '-'], { input, allowFail: true });
    if (predicted.code !== 0 || live.code !== 0) { lines.push(`${r.kind}/${r.name}: ${predicted.stderr}${live.stderr}`); continue; }
    const [p, l] = [JSON.parse(predicted.stdout), JSON.parse(live.stdout)];
    const part = (o: any) => ({ spec: o.spec, data: o.data, labels: o.metadata.labels, annotations: o.metadata.annotations });
    lines.push(`${r.kind}/${r.name} (live -> git as Argo CD applies it): ${differingPaths(part(l), part(p)).join('; ') || 'no difference in a dry run now'}`);
  }
  return lines.join('\n');
}

/** Follows the log of `pod`'s Postgres container until the container ends or `stop()`. */
function followLog(pod: string): { text: () => string; stop: () => void } {
  const out: string[] = [];
  const child = spawn('kubectl', ['-n', ns, 'logs', '-f', pod, '-c', 'postgres', '--since=10s'], { env: kube.env, stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout!.on('data', d => out.push(String(d)));
  return { text: () => out.join(''), stop: () => { child.kill(); } };
}

/**
 * The shutdown of an instance in its instance manager's log (JSON lines): from the first request to
 * stop Postgres (a former primary's fast shutdown, or a smart one that may turn fast) to Postgres's
 * own "database system is shut down"; the modes pg_ctl was run with.
 */
function shutdownInLog(log: string): { seconds: number; modes: string[] } | undefined {
  const entries = log.split('\n').flatMap(line => {
    try {
      const e = JSON.parse(line);
      return [{ e, line, at: typeof e.ts === 'number' ? e.ts * 1000 : Date.parse(e.ts) }];
    } catch {
      return [];
    }
  });
  const start = entries.find(x => /former primary instance|Requesting (smart|fast) shutdown/.test(String(x.e.msg)));
  const down = entries.find(x => x.line.includes('database system is shut down'));
  if (!start || !down) return undefined;
  const modes = entries.filter(x => x.e.msg === 'Shutting down instance').map(x => String(x.e.mode));
  return { seconds: (down.at - start.at) / 1000, modes };
}

/**
 * The switchover drill, under writes: a new digest of the Postgres image (a label added: a new
 * config, the same layers) in the lock, prod synthesized and committed to the git Argo CD reads.
 * Argo CD syncs the Cluster's new image; CloudNativePG recreates the standbys one by one, switches
 * over to an updated one (the tree's primaryUpdateMethod) and recreates the old primary.
 */
async function rollingUpdate(): Promise<void> {
  const before = await clusterStatus();
  const oldImage = (await instances()).find(p => p.name === before.primary)?.image ?? '';
  const lock: ImageLockDocument = JSON.parse(fs.readFileSync(LOCK, 'utf-8'));
  const entry = lock.images[CLUSTER_POSTGRES_IMAGE];
  const tagged = `${entry.repository}:e2e-rolling-update`;
  const mutated = await run('crane', ['mutate', '--insecure', '--label', `org.example.e2e.rolling-update=${new Date().toISOString()}`,
    '--tag', tagged, `${entry.repository}@${entry.digest}`], { env: toolEnv, allowFail: true });
  const digest = mutated.code === 0 ? (await run('crane', ['digest', '--insecure', tagged], { env: toolEnv })).stdout.trim() : '';
  if (!check(`crane mutate --label pushed a new digest of ${entry.repository}: ${digest.slice(0, 19)} (was ${entry.digest.slice(0, 19)})`,
    /^sha256:[0-9a-f]{64}$/.test(digest) && digest !== entry.digest, mutated.stdout + mutated.stderr)) return;
  ImageLock.write(LOCK, { ...lock, images: { ...lock.images, [CLUSTER_POSTGRES_IMAGE]: { ...entry, digest } } });
  synthProd();
  const newImage: string = distObjects(ENV, TREE).find(o => o.kind === 'Cluster')!.spec.imageName;
  check(`dist/${ENV}'s Cluster pins the new digest: ${newImage} (the instances run ${oldImage})`, newImage.endsWith(`@${digest}`) && newImage !== oldImage);
  const onNewDigest = (p: ClusterInstance) => p.image === newImage;

  const oldPrimaryLog = followLog(before.primary);
  const writes = await startWrites(ROLLING_UPDATE_LIMIT_S + 30, 'rolling', true);
  await sleep(5000);
  const revision = await served.commitAll(`${ENV}: Postgres ${digest}`);
  const committed = Date.now();
  // What git's push webhook asks of Argo CD.
  await apps.refresh([ROOT_APP, PLATFORM_APP, PROD_APP], 'normal');
  const changed = (await served.git(['diff', '--name-only', 'HEAD~1', 'HEAD'])).stdout.trim().split('\n');
  check(`the commit changes the lock and dist/${ENV} only: ${changed.join(', ')}`, changed.includes('images.lock.json') && changed.every(f => f === 'images.lock.json' || f.startsWith(`dist/${ENV}/`)));

  const since = () => (Date.now() - committed) / 1000;
  const phases: string[] = [];
  const healthInArgo: string[] = [];
  const seen = (list: string[], value: string | undefined) => { if (value && list[list.length - 1] !== value) list.push(value); };
  let applied = 0;
  let switched = 0;
  let updated = 0;
  let synced = 0;
  let newPrimary = '';
  let promotedOnNewDigest = false;
  let last = '';
  let app: any;
  try {
    await waitFor(`every instance on the new digest, the Cluster healthy, and ${PROD_APP} Synced at the commit and Healthy`, ROLLING_UPDATE_LIMIT_S * 1000, async () => {
      const c = await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', CLUSTER_NAME]);
      const pods = await instances();
      app = await apps.get(PROD_APP);
      seen(phases, c.status?.phase);
      seen(healthInArgo, clusterInArgo(app).health);
      last = `${c.status?.phase}; ${pods.map(p => `${p.name} ${p.role} ${p.ready ? 'ready' : 'not ready'} ${onNewDigest(p) ? 'new' : 'old'}`).join(', ')}; ${describeApplication(app)}`;
      if (!applied && c.spec.imageName === newImage) applied = since();
      if (!switched && c.status?.currentPrimary && c.status.currentPrimary !== before.primary) {
        switched = since();
        newPrimary = c.status.currentPrimary;
        promotedOnNewDigest = pods.some(p => p.name === newPrimary && onNewDigest(p));
      }
      if (!updated && c.status?.phase === 'Cluster in healthy state' && c.status?.readyInstances === 3 && pods.length === 3 && pods.every(p => p.ready && onNewDigest(p))) {
        updated = since();
      }
      if (!synced && settled(app, revision)) synced = since();
      return updated > 0 && synced > 0;
    }, 1000);
  } catch (e) {
    writes.stop();
    oldPrimaryLog.stop();
    throw new Error(`${(e as Error).message}; last: ${last}\n${await operatorLog()}`);
  }
  writes.stop();
  const result = await writes.done;
  oldPrimaryLog.stop();

  timing('rolling update: commit to Argo CD applying the new image to the Cluster', applied);
  timing(`rolling update: commit to the switchover (a new primary, ${newPrimary})`, switched);
  timing('rolling update: commit to every instance on the new digest and the Cluster healthy', updated);
  timing(`rolling update: commit to ${PROD_APP} Synced at it and Healthy`, synced);
  const operation = app?.status?.operationState;
  const story = `rolling update: the Cluster's phases ${phases.join(' -> ')}; Argo CD's health of it ${healthInArgo.join(' -> ')}; `
    + `Argo CD's sync ${operation?.phase} after ${operation?.retryCount ?? 0} retries (${String(operation?.message ?? '').slice(0, 200)})`;
  progress(`  ${story}`);
  timings.push(story);

  const c = await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', CLUSTER_NAME]);
  check(`a switchover (primaryUpdateMethod ${c.spec.primaryUpdateMethod}): ${newPrimary} primary in place of ${before.primary}, promoted already on the new digest (standbys first)`,
    newPrimary !== '' && newPrimary !== before.primary && promotedOnNewDigest);
  const promotion = (Date.parse(c.status?.currentPrimaryTimestamp) - Date.parse(c.status?.targetPrimaryTimestamp)) / 1000;
  if (Number.isFinite(promotion)) timing('rolling update: switchover asked to new primary (the operator\'s targetPrimaryTimestamp to currentPrimaryTimestamp)', promotion);
  const shutdown = shutdownInLog(oldPrimaryLog.text());
  if (check(`the old primary's shutdown is in its instance manager's log${shutdown ? ` (pg_ctl stop -m ${shutdown.modes.join(', then ')})` : ''}`, shutdown !== undefined,
    oldPrimaryLog.text().trim().split('\n').slice(-8).join('\n'))) {
    timing(`rolling update: the old primary's shutdown, its stop request to "database system is shut down" (smartShutdownTimeout ${c.spec.smartShutdownTimeout}s)`, shutdown!.seconds);
  }
  const now = await instances();
  equal(`every instance runs ${newImage}`, now.map(p => p.image), now.map(() => newImage));
  check(`every instance's Postgres container runs the new digest (image IDs ${[...new Set(now.map(p => p.imageId))].join(', ')})`,
    now.length === 3 && now.every(p => p.imageId.endsWith(digest)));
  await reportWrites('rolling update', committed, result);
}

/** Seconds of a Postgres duration like `5min`, `60s` or `1h` (what `walArchiveTimeout` accepts). */
function durationSeconds(duration: string): number {
  const m = /^(\d+)\s*(s|min|h)$/.exec(duration);
  if (!m) throw new Error(`not a Postgres duration in s, min or h: ${duration}`);
  return Number(m[1]) * { s: 1, min: 60, h: 3600 }[m[2] as 's' | 'min' | 'h'];
}

/** Runbook step 1: automated sync of the root and prod off, checked. */
async function automatedSyncOff(drill: string): Promise<void> {
  await apps.disableAutoSync([ROOT_APP, PROD_APP]);
  equal(`${drill}: runbook step 1: automated sync of ${ROOT_APP} and ${PROD_APP} turned off`, await automatedSync(), [null, null]);
}

/** The automated sync policy of the root and prod (null where off). */
async function automatedSync(): Promise<unknown[]> {
  return Promise.all([ROOT_APP, PROD_APP].map(async n => (await apps.get(n))?.spec?.syncPolicy?.automated ?? null));
}

/**
 * Runbook steps 2-4: prod's restore from the backup in `from` (up to `targetTime`, or to the end of
 * its archived WAL), the restored cluster backing up to `backupTo` (barman archives only into an
 * empty folder), synthesized and committed; `dist/bootstrap/` applied, which turns automated sync
 * back on. Argo CD creates the restored Cluster; returns when the restore was committed, once prod is
 * Synced and Healthy and the Cluster healthy.
 */
async function restoreThroughGit(drill: string, from: string, backupTo: string, targetTime?: string): Promise<number> {
  const backup = todo.prod.settings.databaseBackup!;
  synthProd({
    databaseRestore: { fromBackupOf: { ...backup.objectStore, destinationPath: from, clusterName: CLUSTER_NAME }, targetTime },
    databaseBackup: { ...backup, objectStore: { ...backup.objectStore, destinationPath: backupTo } },
  });
  const objects = distObjects(ENV, TREE);
  const restoring = objects.find(o => o.kind === 'Cluster')!;
  const recovery = restoring.spec.bootstrap.recovery;
  const stores = await clusterStores(restoring, name => objects.find(o => o.kind === 'ObjectStore' && o.metadata.name === name));
  const source = stores.source?.destinationPath;
  const archive = stores.archive?.destinationPath;
  equal(`${drill}: runbook step 2: the Cluster bootstraps by recovery from ${source} ${targetTime ? `up to ${targetTime}` : 'to the end of its archived WAL'}, and backs up to ${archive}`,
    [recovery?.source, recovery?.recoveryTarget?.targetTime ?? null, source, archive], [CLUSTER_NAME, targetTime ?? null, from, backupTo]);
  // Runbook step 4: commit, and dist/bootstrap/ applied (the object store's key is sealed in git: nothing to create by hand).
  const revision = await served.commitAll(`${ENV}: restore ${CLUSTER_NAME} from its backup in ${from}${targetTime ? ` up to ${targetTime}` : ''}`);
  const committedAt = Date.now();
  const changed = (await served.git(['diff', '--name-only', 'HEAD~1', 'HEAD'])).stdout.trim().split('\n');
  check(`${drill}: the restore's commit changes dist/${ENV} only: ${changed.join(', ')}`, changed.every(f => f.startsWith(`dist/${ENV}/`)));
  const applied = await kube.run(['apply', '-f', path.join(TREE, 'bootstrap')]);
  check(`${drill}: runbook step 4: kubectl apply -f dist/bootstrap/ configured ${ROOT_APP}`, new RegExp(`${ROOT_APP} configured`).test(applied.stdout), applied.stdout + applied.stderr);
  // What git's push webhook asks of Argo CD.
  await apps.refresh([ROOT_APP, PROD_APP], 'normal');
  await waitFor(`automated sync of ${ROOT_APP} and ${PROD_APP} back on (${PROD_APP}'s from git, by the root)`, 120_000,
    async () => (await automatedSync()).every(a => a !== null), 1000);
  check(`${drill}: automated sync of ${ROOT_APP} and ${PROD_APP} back on`, true);
  timing(`${drill}: commit to ${PROD_APP} Synced and Healthy (Argo CD created the Cluster; base backup restored, WAL replayed, two standbys cloned)`,
    await apps.waitSettled([PROD_APP], RESTORE_LIMIT_S, committedAt, revision, () => admitIngresses(kube, ns)));
  await healthy(120);
  const inArgo = clusterInArgo(await apps.get(PROD_APP));
  equal(`${drill}: the restored Cluster Synced and Healthy by Argo CD's check (${inArgo.message ?? 'no message'})`, [inArgo.status, inArgo.health], ['Synced', 'Healthy']);
  for (const name of SEALED_SECRETS) await waitSealedStatus(kube, ns, name, 'True');
  const web = await kube.settle(ns, 'deployment/todo', 240);
  check(`${drill}: the web Deployment is Ready again, on the restored database`, web.code === 0, web.stderr);
  return committedAt;
}

/** Waits until the service lists `name` (read through its Service, as a user would). */
async function serviceLists(drill: string, name: string): Promise<void> {
  const list = await clients.eventually(CLIENT_NS, CLIENT, ['request', 'GET', `http://todo.${ns}.svc.cluster.local/tasks`], 60);
  check(`${drill}: the service lists the restored tasks`, list.code === 0 && list.stdout.includes(name), list.stdout.slice(-500) + list.stderr);
}

/**
 * The point-in-time restore, after a bad write: writes, a moment T, more writes, then the table
 * dropped (a migration gone wrong). As the README's runbook says: automated sync off, the damaged
 * Cluster and its ScheduledBackup deleted (the namespace, its sealed Secrets and the web tier stay;
 * the ScheduledBackup comes back from git and makes the restored cluster's first base backup), prod's
 * restore to T committed. The restored database must hold exactly what was committed before T.
 * Returns where the restored cluster backs up, once its first base backup is complete.
 */
async function pointInTimeRestore(): Promise<string> {
  const drill = 'point-in-time restore';
  await automatedSyncOff(drill);
  const before = await (await startWrites(PITR_WRITES_S, 'pitr-before')).done;
  check(`writes before T acknowledged (${before.acked.length})`, before.acked.length > 5, before.output.slice(-1500));
  // T on whole seconds, with a second of quiet on each side of it.
  await sleep(1000);
  const target = new Date(Math.ceil(Date.now() / 1000) * 1000);
  const targetTime = target.toISOString().replace('.000Z', 'Z');
  await sleep(target.getTime() - Date.now() + 1000);
  const after = await (await startWrites(PITR_WRITES_S, 'pitr-after')).done;
  check(`writes after T acknowledged (${after.acked.length})`, after.acked.length > 5, after.output.slice(-1500));
  // Recovery to T must see WAL past T: close the segment holding the last write and wait for its archive.
  const [segment] = await onPrimary('SELECT pg_walfile_name(pg_switch_wal())');
  await waitFor(`WAL segment ${segment} archived`, 120_000, async () => ((await onPrimary('SELECT last_archived_wal FROM pg_stat_archiver'))[0] ?? '') >= segment, 2000);
  const committed = await storedNames();
  const expected = [...committed].filter(n => !n.startsWith('pitr-after')).sort();

  await onPrimary('DROP TABLE tasks');
  equal('the bad write: table tasks dropped', await onPrimary('SELECT to_regclass(\'tasks\') IS NULL'), ['t']);
  const damaged = Date.now();
  // Runbook step 3 for a damaged database: the Cluster and its ScheduledBackup deleted (backups stay in the store).
  for (const kind of ['scheduledbackups.postgresql.cnpg.io', 'clusters.postgresql.cnpg.io']) {
    const r = await kube.run(['-n', ns, 'delete', kind, CLUSTER_NAME, '--timeout=180s'], { allowFail: true });
    check(`runbook step 3: kubectl delete ${kind.split('.')[0]} ${CLUSTER_NAME}`, r.code === 0, r.stderr);
  }
  await waitFor('the Cluster\'s pods and volume claims gone', 180_000, async () => {
    const left = await kube.json(['-n', ns, 'get', 'pods,persistentvolumeclaims', '-l', `cnpg.io/cluster=${CLUSTER_NAME}`]);
    return left.items.length === 0;
  }, 2000);

  const backup = todo.prod.settings.databaseBackup!.objectStore.destinationPath;
  const restoredTo = `${backup}-restored`;
  const committedAt = await restoreThroughGit(drill, backup, restoredTo, targetTime);
  const restored = [...await storedNames()].sort();
  const missing = expected.filter(n => !restored.includes(n));
  const extra = restored.filter(n => !expected.includes(n));
  timings.push(`${drill}: ${committed.size} tasks committed before the table was dropped, ${expected.length} before T; restored ${restored.length}, missing ${missing.length}, after T ${extra.length}`);
  equal(`tasks committed before T missing after the restore (of ${expected.length})`, missing, []);
  equal(`tasks committed after T present after the restore (of ${committed.size - expected.length})`, extra, []);
  const lostBeforeT = before.acked.filter(n => !restored.includes(n));
  check(`every write acknowledged before T is back (${before.acked.length} of the last batch)`, lostBeforeT.length === 0, lostBeforeT.join(' '));
  await serviceLists(drill, before.acked[0]);
  const serving = Date.now();
  timings.push(`${drill}: the newest write before T, acknowledged ${((target.getTime() - Math.max(...before.ackedAt)) / 1000).toFixed(1)} s before T, restored`);
  timing(`${drill}: the Cluster deleted to the service serving the restored tasks`, (serving - damaged) / 1000);
  timing(`${drill}: the restore's commit to the service serving the restored tasks`, (serving - committedAt) / 1000);

  // The next drill restores from the restored cluster's own backup.
  await waitFor(`the restored cluster's first base backup (into ${restoredTo}) completed`, 300_000,
    async () => (await completedBackups()).some(b => b.destinationPath === restoredTo), 3000);
  check(`the restored cluster's first base backup is in ${restoredTo}`, true);
  return restoredTo;
}

/**
 * The unplanned total loss: the namespace deleted (every instance, volume and Secret; the pods
 * force-deleted: nothing gets to flush or archive) while the writer is writing, with no WAL switch
 * first. Restored, through git, to the end of the archived WAL. What was acknowledged and not
 * archived is lost: the RPO, which `archive_timeout` (prod: 1 min) bounds.
 * The restored writes must be the ones acknowledged first, without a gap.
 */
async function unplannedTotalLoss(from: string): Promise<void> {
  const drill = 'total loss';
  // Before the loss: with it on, Argo CD would put back a new, empty database the moment the namespace is gone.
  await automatedSyncOff(drill);
  const stored = await storedNames();
  const archiveTimeout = String(distObjects(ENV, TREE).find(o => o.kind === 'Cluster')!.spec.postgresql.parameters.archive_timeout);
  const timeoutS = durationSeconds(archiveTimeout);
  const writingS = timeoutS + TOTAL_LOSS_EXTRA_WRITES_S;
  const writes = await startWrites(writingS + 60, 'loss', true);
  await sleep(writingS * 1000);
  const lost = Date.now();
  await kube.run(['delete', 'namespace', ns, '--wait=false']);
  await kube.run(['-n', ns, 'delete', 'pods', '--all', '--grace-period=0', '--force'], { allowFail: true });
  await sleep(3000);
  writes.stop();
  const result = await writes.done;
  await waitFor(`namespace ${ns} gone`, 300_000, async () => (await kube.run(['get', 'namespace', ns], { allowFail: true })).code !== 0, 2000);
  timing(`${drill}: namespace deleted to gone`, (Date.now() - lost) / 1000);

  const committedAt = await restoreThroughGit(drill, from, `${from}-2`);
  const restored = await storedNames();
  equal(`${drill}: tasks stored before the writes began, missing after the restore (of ${stored.size})`, [...stored].filter(n => !restored.has(n)), []);
  const acked = result.acked.map((name, i) => ({ name, at: result.ackedAt[i], back: restored.has(name) }));
  const missing = acked.filter(w => !w.back);
  // The writer writes one at a time, so what was archived is a prefix of what it was told: no gap.
  const firstMissing = acked.findIndex(w => !w.back);
  check(`${drill}: the restored writes are the first ${firstMissing < 0 ? acked.length : firstMissing} acknowledged, without a gap`,
    firstMissing < 0 || acked.slice(firstMissing).every(w => !w.back), acked.map(w => `${w.name}:${w.back ? 'back' : 'lost'}`).join(' ').slice(-1500));
  const rpo = missing.length ? (lost - missing[0].at) / 1000 : 0;
  progress(`  writes: sent=${result.sent} acknowledged=${acked.length} restored=${acked.length - missing.length} lost=${missing.length}`);
  timings.push(`${drill}: writes sent ${result.sent}, acknowledged ${acked.length}, restored ${acked.length - missing.length}, acknowledged but lost ${missing.length}`);
  timing(`${drill}: RPO, the oldest lost acknowledged write to the loss (archive_timeout ${archiveTimeout}; ${writingS} s of writes)`, rpo);
  check(`${drill}: archive_timeout archived the first writes while the writer wrote (${acked.length - missing.length} of ${acked.length} restored)`,
    missing.length < acked.length);
  check(`${drill}: archive_timeout bounds the loss: RPO ${rpo.toFixed(1)} s <= ${archiveTimeout} + ${ARCHIVE_LAG_S} s for the upload`, rpo <= timeoutS + ARCHIVE_LAG_S);
  await serviceLists(drill, [...stored][0]);
  const serving = Date.now();
  timing(`${drill}: RTO, the loss (namespace delete) to the service serving the restored tasks`, (serving - lost) / 1000);
  timing(`${drill}: RTO, the restore's commit to the service serving the restored tasks`, (serving - committedAt) / 1000);
}

async function main(): Promise<void> {
  const ready = await section([
    ['install/find tools: the cluster program\'s (Kubernetes v1.37.2), ko, crane, the Sealed Secrets controller, the CloudNativePG manager (go install, v1.30.0), '
      + 'and Argo CD v3.6.1 beside the next steps (needed from its takeover on)', async () => {
      toolEnv = await installTools([...CLUSTER_TOOLS, 'sealed-secrets', 'cloudnative-pg']);
      // Argo CD's processes start beside prod's first apply and are needed at its takeover, steps
      // later: on a cold machine its build (10-20 minutes) runs meanwhile instead of before.
      argoToolEnv = inBackground(installTools([...CLUSTER_TOOLS, 'sealed-secrets', 'cloudnative-pg', 'argocd']));
      served = new ServedRepository(REPO, toolEnv);
    }],
    [`cluster up --nodes ${NODES}; ${VOLUMES_PER_NODE} local volumes per node, made beside the next step`, async () => {
      const started = Date.now();
      cluster = await startNodesCluster(path.join(tmp, 'cluster'), toolEnv, NODES);
      kube = cluster.kube;
      apps = new Applications(kube);
      timing(`cluster up (${NODES} nodes)`, (Date.now() - started) / 1000);
      volumesMade = inBackground((async () => {
        for (let i = 1; i <= VOLUMES_PER_NODE; i++) await volumesOnEveryNode(cluster, `instance-${i}`, '25Gi');
      })());
    }],
    ['the platform (Sealed Secrets controller and CloudNativePG operator, images built here) applied as Argo CD does; the operator Ready; the object store; '
      + 'prod\'s login and backup key sealed for this controller; prod as committed, with the knobs SEALED_SECRETS_DIR, TODO_BACKUP_ENDPOINT and TODO_REPO_URL', async () => {
      const upstream: ImageLockDocument = JSON.parse(fs.readFileSync(path.join(ROOT, 'images.lock.json'), 'utf-8'));
      fs.mkdirSync(path.dirname(LOCK), { recursive: true });
      const local = await withPostgresTag(await withLocalImages(upstream, cluster.registry, toolEnv));
      ImageLock.write(LOCK, local);
      postgresPulled = prepullClusterPostgres(cluster, local);
      const baseImage = await makeBaseImage(tmp, cluster.registry, toolEnv);
      const ko = await run('ko', ['build', '--bare', '--insecure-registry', '.'], {
        cwd: path.join(ROOT, 'test', 'tools', 'probe'),
        env: { ...toolEnv, KO_DOCKER_REPO: `${cluster.registry}/e2e/probe`, KO_DEFAULTBASEIMAGE: baseImage, GOFLAGS: '-buildvcs=false' },
      });
      clients = new ProbeClients(kube, ko.stdout.trim().split('\n').pop()!);
      // The todo image into the lock; the tree synthesized beside it (the committed sealed files) gives the platform.
      fs.mkdirSync(path.join(tmp, 'committed'));
      await buildTodoImage(cluster, toolEnv, { lock: LOCK, outdir: FIRST_TREE, helmDir: path.join(tmp, 'committed', 'helm'), baseImage });
      // The object store and the platform wait for pods of their own: they start together.
      const prodApp = distObjects('apps', FIRST_TREE).find(o => o.kind === 'Application' && o.spec?.source?.path === `dist/${ENV}`)!;
      const storeStarted = inBackground(startObjectStore(kube, {
        namespace: STORE_NS,
        nodeName: cluster.nodes[0],
        clients: [prodApp.spec.destination.namespace],
        toolEnv,
        registry: cluster.registry,
      }));
      await applyPlatformAsArgo(kube, FIRST_TREE);
      const operator = await kube.run(['-n', 'cnpg-system', 'rollout', 'status', 'deployment/cnpg-controller-manager', '--timeout=180s'], { allowFail: true });
      check('the CloudNativePG operator is Ready (restricted Pod Security, its webhooks serving)', operator.code === 0, operator.stderr);
      store = await storeStarted();
      // As a fork seals its own: the login, and the object store's key, for this cluster's controller.
      await sealDatabaseLogins(kube, SEALED_DIR, [ENV]);
      await sealBackupKey(kube, SEALED_DIR, ENV, store.credentials);
      todo = await loadTodoTree({ SEALED_SECRETS_DIR: SEALED_DIR, TODO_BACKUP_ENDPOINT: store.endpointUrl, TODO_REPO_URL: REPO_URL });
      const settings = todo.prod.settings;
      const backup = settings.databaseBackup?.objectStore;
      check(`prod as committed: ${settings.databaseEngine}, ${settings.databaseInstances} instances, synchronous ${settings.databaseSynchronous?.dataDurability}, `
        + `the login ${settings.credentials.source}, backup to ${backup?.endpointUrl} ${backup?.destinationPath} (TODO_BACKUP_ENDPOINT), `
        + `repoUrl ${todo.git.repoUrl} (TODO_REPO_URL)`,
      settings.databaseEngine === 'cloudnative-pg' && settings.databaseInstances === 3 && settings.databaseSynchronous?.dataDurability === 'required'
        && settings.credentials.source === CredentialsSource.SEALED_SECRET && backup?.endpointUrl === store.endpointUrl
        && todo.git.repoUrl === REPO_URL);
      synthProd();
      equal(`dist/${ENV}'s sealed Secrets, sealed for this cluster (${SEALED_DIR})`,
        distObjects(ENV, TREE).filter(o => o.kind === 'SealedSecret').map(o => o.metadata.name).sort(), [...SEALED_SECRETS].sort());
      equal('dist/platform equals the one applied (synthesized with the committed sealed files)',
        JSON.stringify(distObjects('platform', TREE)), JSON.stringify(distObjects('platform', FIRST_TREE)));
    }],
    ['prod applied as Argo CD does: a Cluster of three instances on three nodes, the web tier connected to todo-db-rw with the sealed login, '
      + 'WAL archived and a first base backup in the object store; the writer on the first node', async () => {
      // The CRDs first: kubectl's discovery of a group whose CRDs are still being created prints an
      // error (memcache.go) that the apply's warning check below would count. The processes start meanwhile.
      await installArgoCdObjects();
      argoStarting = startArgoCdProcesses().then(() => undefined, (e: Error) => e);
      timing('every node pulled the Postgres image (beside the platform\'s step)', await postgresPulled());
      await volumesMade();
      const started = Date.now();
      await applyEnvironmentAsArgo(kube, ENV, namespaces, TREE, { expectedWarning: expectedClusterWarning(distObjects(ENV, TREE)) });
      ns = namespaces[ENV];
      for (const name of SEALED_SECRETS) await waitSealedStatus(kube, ns, name, 'True');
      await healthy(420);
      timing('prod applied to the Cluster healthy (initdb, two standbys cloned)', (Date.now() - started) / 1000);
      await waitFor('the first base backup (ScheduledBackup, immediate) completed', 300_000, async () => (await completedBackups()).length > 0, 3000)
        .catch(async e => {
          throw new Error(`${(e as Error).message}: ${(await kube.run(['-n', ns, 'get', 'backups.postgresql.cnpg.io', '-o', 'yaml'], { allowFail: true })).stdout.slice(-2000)}`);
        });
      timing('prod applied to the first base backup completed', (Date.now() - started) / 1000);
      const archiving = (await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', CLUSTER_NAME])).status?.conditions?.find((c: any) => c.type === 'ContinuousArchiving');
      check(`the Cluster's ContinuousArchiving condition is True (${archiving?.reason})`, archiving?.status === 'True', JSON.stringify(archiving));
      const pods = await instances();
      equal('three instances, on three nodes', new Set(pods.map(p => p.node)).size, 3);
      equal('one primary, two replicas', pods.map(p => p.role).sort(), ['primary', 'replica', 'replica']);
      const c = await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', CLUSTER_NAME]);
      check(`synchronous replication: ${JSON.stringify(c.spec.postgresql?.synchronous)}`, c.spec.postgresql?.synchronous?.number === 1 && c.spec.postgresql?.synchronous?.dataDurability === 'required');
      const [login, key] = SEALED_SECRETS;
      const { archive } = await clusterStores(c, name => kube.json(['-n', ns, 'get', 'objectstores.barmancloud.cnpg.io', name]));
      equal('the Cluster\'s login and object store key are the Secrets the controller opened',
        [c.spec.bootstrap?.initdb?.secret?.name, archive?.s3Credentials?.accessKeyId?.name], [login, key]);
      const reload = (await kube.json(['-n', ns, 'get', 'secret', login])).metadata.labels?.['cnpg.io/reload'];
      check(`the Secret ${login} (from its SealedSecret) is labelled cnpg.io/reload: ${reload}`, reload !== undefined);
      const web = await kube.run(['-n', ns, 'rollout', 'status', 'deployment/todo', '--timeout=240s'], { allowFail: true });
      check('the web Deployment is Ready (its readiness needs the database)', web.code === 0, web.stderr);
      await clients.start(CLIENT_NS, CLIENT, { nodeName: cluster.nodes[0] });
      const added = await clients.eventually(CLIENT_NS, CLIENT, ['request', 'PUT', `http://todo.${ns}.svc.cluster.local/tasks`, '{"name":"first"}'], 60);
      check('a task written through the service', added.code === 0, added.stdout + added.stderr);
    }],
  ]);
  if (!ready) {
    // Nothing may start after the cleanups have run.
    await argoStarting;
    skipSteps([...WEB_TIER_STEPS, 'Argo CD', 'rolling update', 'failover', 'node loss', 'point-in-time restore', 'total loss'], 'the cluster, the operator or prod is not there');
    return;
  }

  // The web tier's drills first: they drain and stop nodes under prod as applied, before Argo CD syncs it.
  const committedAutoscaling = todo.prod.settings.autoscaling!;
  const context = { cluster, toolEnv, namespace: ns, clientNamespace: CLIENT_NS, databaseCluster: CLUSTER_NAME, clients, timings };
  await webTierDrills({ ...context, committedAutoscaling });

  await section([
    [`Argo CD v3.6.1 takes over: the tree committed to a repository it clones (file://), dist/bootstrap/ applied; todo-platform and ${PROD_APP} Synced and Healthy, `
      + `the Cluster Healthy by Argo CD's own check; ${HARD_REFRESHES} hard refreshes ${HARD_REFRESH_SPACING_S}s apart: still Synced, 0 resources OutOfSync`, async () => {
      const failed = await argoStarting;
      if (failed) throw failed;
      // Whatever the web tier's drills left: the database whole again before Argo CD compares it.
      await healthy(420);
      await served.git(['init', '-q', '-b', todo.git.targetRevision]);
      const revision = await served.commitAll('e2e: prod on CloudNativePG, images built here');
      await served.checkServed(todo.git.targetRevision, revision);
      const started = Date.now();
      const r = await kube.run(['apply', '-f', path.join(TREE, 'bootstrap')]);
      check(`kubectl apply -f dist/bootstrap/ created ${ROOT_APP}`, new RegExp(`${ROOT_APP} created`).test(r.stdout), r.stdout + r.stderr);
      const names = [PLATFORM_APP, PROD_APP];
      await waitFor(`Argo CD to create ${names.join(' and ')} from dist/apps`, 120_000, async () => (await Promise.all(names.map(n => apps.get(n)))).every(Boolean), 1000);
      argoUp = true;
      timing(`Argo CD: dist/bootstrap/ applied to ${names.join(' and ')} Synced and Healthy (adopting what the as-Argo applies made)`,
        await apps.waitSettled(names, ARGO_ADOPT_LIMIT_S, started, revision, () => admitIngresses(kube, ns)).catch(async e => {
          throw new Error(`${(e as Error).message}\n${(await Promise.all(names.map(async n => driftDetail(await apps.get(n))))).join('\n')}`);
        }));
      for (const name of names) {
        const app = await apps.get(name);
        check(`${name}: Synced at ${revision.slice(0, 8)}, Healthy${name === PROD_APP ? ' (or only the HPA without metrics Degraded)' : ''} — ${describeApplication(app)}`,
          settled(app, revision));
        equal(`${name}: source.repoURL`, app.spec.source.repoURL, REPO_URL);
        const tracked = new Set((app.status.resources ?? []).map((x: any) => `${x.kind}/${x.name}`));
        equal(`${name}: every object of ${app.spec.source.path} is among the Application's resources`,
          distObjects(String(app.spec.source.path).replace(/^dist\//, ''), TREE).map(o => `${o.kind}/${o.metadata.name}`).filter(k => !tracked.has(k)), []);
      }
      const inArgo = clusterInArgo(await apps.get(PROD_APP));
      equal(`${PROD_APP}: the Cluster ${CLUSTER_NAME} Synced, and Healthy by Argo CD's check for postgresql.cnpg.io/Cluster (${inArgo.message ?? 'no message'})`,
        [inArgo.status, inArgo.health], ['Synced', 'Healthy']);

      const refreshed = Date.now();
      const all = [ROOT_APP, ...names];
      for (let i = 1; i <= HARD_REFRESHES; i++) {
        if (i > 1) await sleep(HARD_REFRESH_SPACING_S * 1000);
        for (const { app, reconciledBefore } of await apps.hardRefresh(all)) {
          const outOfSync = outOfSyncResources(app);
          check(`hard refresh ${i}: ${app.metadata.name} Synced, ${(app.status.resources ?? []).length} resources, 0 OutOfSync, reconciled again`,
            app.status.sync.status === 'Synced' && outOfSync.length === 0 && reconciledBefore !== app.status.reconciledAt,
            outOfSync.length ? `${outOfSync.join('\n')}\n${await driftDetail(app)}` : describeApplication(app));
        }
        equal(`hard refresh ${i}: Argo CD's health of the Cluster`, clusterInArgo(await apps.get(PROD_APP)).health, 'Healthy');
      }
      timing(`Argo CD: ${HARD_REFRESHES} hard refreshes ${HARD_REFRESH_SPACING_S}s apart`, (Date.now() - refreshed) / 1000);
    }],
  ]);
  if (argoUp) {
    await section([['rolling update through git: a new digest of the Postgres image committed, Argo CD syncs it under writes; the standbys updated, then a switchover; '
      + 'every instance on the new digest; 0 acknowledged writes missing', rollingUpdate]]);
  } else {
    skipSteps(['rolling update'], 'Argo CD is not syncing prod');
  }

  await section([
    [`failover: the primary's pod killed (deleted, 1 s grace) under writes (until ${STEADY_WRITES_S}s after the new primary's first, at most ${FAILOVER_WRITES_S}s); `
      + 'a standby promoted; 0 acknowledged writes missing', async () => {
      const before = await clusterStatus();
      const writes = await startWrites(FAILOVER_WRITES_S, 'failover', true);
      await sleep(8000);
      const started = Date.now();
      // A crash, not a shutdown: with the default grace period the instance manager first waits
      // for a smart shutdown (the tree's smartShutdownTimeout, 15 s), which the web tier's pooled
      // connections hold open, and the operator switches over only after that.
      await kube.run(['-n', ns, 'delete', 'pod', before.primary, '--grace-period=1', '--wait=false']);
      const promoted = await promotedUnderWrites(writes, before.primary, started, FAILOVER_WRITES_S - 10, 500);
      check(`${(await clusterStatus()).primary} promoted in place of ${before.primary} (after ${promoted.toFixed(1)}s)`, promoted > 0);
      timing('failover: primary pod deleted to a new primary', promoted);
      await reportWrites('failover', started, await writes.done);
      await healthy(300);
      timing('failover: to three ready instances again (the old primary rejoins as a standby)', (Date.now() - started) / 1000);
    }],
    [`node loss: every process of the primary's node killed under writes (until ${STEADY_WRITES_S}s after the new primary's first, at most ${NODE_LOSS_WRITES_S}s); `
      + 'a standby promoted; 0 acknowledged writes missing; the node returns and the cluster heals', async () => {
      const before = await clusterStatus();
      const node = (await instances()).find(p => p.name === before.primary)!.node;
      if (node === cluster.nodes[0]) {
        // The writer lives on the first node: move the primary away first (a switchover, not a drill).
        const target = (await instances()).find(p => p.node !== node && p.ready)!.name;
        await kube.run(['-n', ns, 'patch', 'clusters.postgresql.cnpg.io', CLUSTER_NAME, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { targetPrimary: target } })]);
        await waitFor('switchover', 120_000, async () => (await clusterStatus()).primary === target, 1000);
        await healthy(300);
      }
      const primary = (await clusterStatus()).primary;
      const lost = (await instances()).find(p => p.name === primary)!.node;
      const operators = await operatorNodes();
      progress(`  operators: leader on ${operators.leader}, others on ${operators.others.join(', ')}; the lost node is ${lost}`);
      const writes = await startWrites(NODE_LOSS_WRITES_S, 'nodeloss', true);
      await sleep(8000);
      const started = Date.now();
      const stop = await cluster.command(['stop-node', lost]);
      check(`${lost} stopped (kubelet, kube-proxy, containerd and its containers killed)`, stop.code === 0, stop.stderr);
      const promoted = await promotedUnderWrites(writes, primary, started, NODE_LOSS_WRITES_S - 10, 1000);
      check(`${(await clusterStatus()).primary} promoted in place of ${primary} on the lost node ${lost} (after ${promoted.toFixed(1)}s)`, promoted > 0);
      timing('node loss: to a new primary', promoted);
      await reportWrites('node loss', started, await writes.done);
      const back = Date.now();
      const start = await cluster.command(['start-node', lost]);
      check(`${lost} started again`, start.code === 0, start.stderr);
      await healthy(420);
      timing('node back: to three ready instances', (Date.now() - back) / 1000);
      equal('one primary, two replicas after the node returned', (await instances()).map(p => p.role).sort(), ['primary', 'replica', 'replica']);
    }],
  ]);
  if (argoUp) {
    let restoredTo = '';
    const restoredOk = await section([['point-in-time restore through git and Argo CD after a bad write (the README\'s runbook): automated sync off; writes, a moment T, more writes, '
      + 'the table dropped; the Cluster and its ScheduledBackup deleted; prod\'s restore to T committed, dist/bootstrap/ applied (automated sync back on); Argo CD creates the '
      + 'restored Cluster, which holds exactly what was committed before T; the service serves it', async () => { restoredTo = await pointInTimeRestore(); }]]);
    if (restoredOk) {
      await section([['unplanned total loss: the namespace deleted (instances, volumes, Secrets) under writes, no WAL switch first; restored through git to the end of the '
        + 'archived WAL; every task from before the writes back, the restored writes a prefix of the acknowledged ones; the RPO (acknowledged writes lost) and the RTO', async () => unplannedTotalLoss(restoredTo)]]);
    } else {
      skipSteps(['total loss'], 'the point-in-time restore, whose backup it restores, failed');
    }
  } else {
    skipSteps(['point-in-time restore', 'total loss'], 'Argo CD is not syncing prod');
  }

  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
