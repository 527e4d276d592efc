/**
 * End-to-end test on real nodes: the pods of dev and staging start, serve
 * traffic and keep their data (prod, three database instances on three
 * nodes, and the web tier's drills are test/e2e/cloudnative-pg.ts's). The
 * cluster program of test/tools/cluster/ runs three nodes of Kubernetes v1.37.2 (kubelet on containerd and runc,
 * bridge CNI, kube-proxy, kube-router enforcing the NetworkPolicies) beside
 * its control plane, CoreDNS and a local registry, in network namespaces of
 * its own. First, what the cluster gives every pod: names through CoreDNS
 * (also the short one), a ClusterIP through kube-proxy, a pod reaching itself
 * through its own Service, a server on the host end of the cluster's veth,
 * the API server through the `kubernetes` Service with TLS verified, `kubectl
 * logs` and `exec`, a local volume written by a uid-70 pod with fsGroup 70.
 * Images are built here and pushed to that registry: the
 * Postgres stand-in (Debian's PostgreSQL with the official image's
 * entrypoint, uid 70), postgres_exporter, the CloudNativePG operator and its
 * Postgres image by test/tools/images/build.sh, the todo service with
 * `npm run build:image -- --builder ko`, whose lock and
 * re-synthesized tree (every image pinned by digest) are what is applied.
 *
 * Each environment is applied the way Argo CD applies it (server-side, into
 * a namespace enforcing PodSecurity "restricted"), one environment at a time,
 * after the platform part (the Sealed Secrets controller and the CloudNativePG
 * operator, built here), with the logins (and prod's object store key)
 * sealed for this cluster by `npm run secrets` as the README says (no
 * `kubectl create secret`). dev runs Postgres as a StatefulSet on a volume
 * of the first node; staging runs a CloudNativePG Cluster of two instances
 * on unbound local volumes (required anti-affinity: primary and standby on
 * different nodes), the web tier on `todo-db-rw` with the
 * sealed login. Then,
 * from a client pod, through the Service's DNS name: add, list and delete
 * tasks. Also:
 * - dev: the Postgres pod deleted, back on the same volume, the tasks still
 *   there; the pg_dump CronJob (dev with `operations` on: staging, on
 *   CloudNativePG, has none) run now, the dump restored into a fresh
 *   database by the README's procedure, rows compared;
 * - staging: the web Deployment rolled to a new digest under a request
 *   loop: zero failed requests, the tasks still there, the new pods on the
 *   primary;
 * - staging's NetworkPolicies: an unconnected pod cannot reach Postgres, the
 *   web pods can, Postgres cannot open connections out.
 * Then images built inside the cluster from this repository (a git server on
 * the host): a KanikoBuildJob (Pod Security "baseline") and a
 * BuildpacksBuildJob (builder made by buildpacks/build-builder.sh, a GOPROXY
 * on the host, "restricted"); each reports the digest the registry serves,
 * and dev runs that image.
 *
 *   sudo npx ts-node --transpile-only test/e2e/pods.ts     # needs root; ~6-8 min with the tools cached
 *
 * Every process, mount, network namespace and cgroup is removed by the
 * program's `down` on exit, failure or signal (test/e2e/demo.ts proves that
 * `down` leaves nothing). Prints "[e2e i/N] ..." and ends with "N passed, N failed".
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Yaml } from 'cdk8s';
import * as YAML from 'yaml';
import {
  K8sObject, Kubectl, applyEnvironmentAsArgo, distObjects, labelSelector,
} from './cluster-support';
import { expectedClusterWarning } from './cnpg-support';
import { startGitHttpServer } from './git-http-server';
import {
  ROOT, check, e2eMain, equal, freePort, installTools, progress, recordTiming, requireTools, run,
  section, skipSteps, sleep, waitFor,
} from './harness';
import { PROBE, ProbeClients } from './probe-support';
import {
  IMAGES_SH, NodesCluster, buildTodoImage, checkWebOnCluster, clusterStatus, nodeVolumes, psqlOnPrimary, startNodesCluster,
  NOT_PULLED, prepullClusterPostgres, volumesOnEveryNode, waitClusterHealthy, withLocalImages,
} from './real-cluster-support';
import { KANIKO_SOURCE_TARBALL, craneInsecure, makeBaseImage, makeGitImage, makeGoBuilderImage, startGoProxy } from './registry-support';
import { applyPlatformAsArgo, sealTodoSecrets } from './sealed-secrets-support';
import { BuildpacksBuildJob, ContainerImage, GitOpsEnvironment, GitOpsRepository, ImageLock, ImageLockDocument, KanikoBuildJob } from '../../src';
import { KANIKO_POD_SECURITY_LEVEL } from '../../src/image-build/kaniko-build-job';
import { TODO_ENVIRONMENTS, TODO_GIT, TodoSettings } from '../../todo/environments';
import { TODO_PLATFORM } from '../../todo/repository';
import { buildTodoStack } from '../../todo/todo-stack';
import { CLUSTER_TOOLS } from '../tools/cluster/cluster';
import { logFile } from '../tools/cluster/daemons';

const STEPS = 12;
/**
 * Three nodes of 2 CPUs: staging's two database instances (1 CPU each) must run on two different
 * nodes (required anti-affinity), and dev's database (0.6 CPU) runs on the first node, where its
 * volumes are, beside the platform's controllers and CoreDNS; the image-build Jobs need room too.
 */
const NODES = 3;
/** Unbound local volumes per node for the Cluster's instances: staging takes one on two of them. */
const CLUSTER_VOLUMES_PER_NODE = 1;
/** The name of the todo stack's database, a StatefulSet or a CloudNativePG Cluster. */
const DATABASE = 'todo-db';
/** Most seconds until kube-router's NetworkPolicy sync admits a new pod that a policy allows. */
const WEB_POLICY_SYNC_S = 30;
/** staging's login, sealed (SealedSecret todo-db-credentials). */
const SEALED_LOGIN = 'todo-db-credentials';
/** apply to every pod of an environment Ready. */
const READY_LIMIT_S = 240;
/** A Cluster's instances start one after another (initdb, then each standby cloned from the primary): per instance. */
const CLUSTER_READY_LIMIT_S = 150;
/** Most seconds of the request loop around the rolling update; it stops LOAD_STEADY_S after the replaced pods are gone. */
const LOAD_SECONDS = 150;
/** Seconds of requests to the rolled web tier before the loop stops. */
const LOAD_STEADY_S = 3;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-pods-'));
/** The tree applied: dist/ as `npm run build:image` synthesized it with the local images. */
const TREE = path.join(tmp, 'tree', 'dist');
const LOCK = path.join(tmp, 'tree', 'images.lock.json');
/**
 * dev with `operations` on (the nightly pg_dump CronJob and its volume, the metrics exporter): the
 * backup the StatefulSet engine has, which staging, now on CloudNativePG, no longer runs.
 */
const DEV_WITH_BACKUP_TREE = path.join(tmp, 'dev-with-backup', 'dist');
/** The logins (and prod's object store key), sealed for this cluster (SEALED_SECRETS_DIR of the synth). */
const SEALED_DIR = path.join(tmp, 'sealed-secrets');
let toolEnv: NodeJS.ProcessEnv = process.env;
let cluster: NodesCluster;
let kube = new Kubectl(process.env);
let probeImage = '';
let clients: ProbeClients;
let baseImage = '';
/** Every node's kubelet pulling CloudNativePG's Postgres image while the steps before staging run (prepullClusterPostgres's). */
let postgresPulled = NOT_PULLED;
const namespaces: Record<string, string> = {};
const timings: string[] = [];

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

function treeObjects(env: string): K8sObject[] {
  return distObjects(env, TREE);
}

/** Every container image of a tree directory. */
function imagesOf(objects: K8sObject[]): string[] {
  const images = new Set<string>();
  JSON.stringify(objects, (k, v) => { if ((k === 'containers' || k === 'initContainers') && Array.isArray(v)) v.forEach((c: any) => images.add(c.image)); return v; });
  return [...images].sort();
}

/** The namespace the web service's NetworkPolicy admits clients from: the Ingress controller's, or its own. */
function clientNamespace(env: string): string {
  const web = treeObjects(env).find(o => o.kind === 'NetworkPolicy' && o.spec.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'web');
  const from = web?.spec?.ingress?.[0]?.from?.[0];
  return from?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? namespaces[env];
}

/**
 * Waits until every CloudNativePG Cluster of `ns` is healthy with all its instances (within
 * {@link CLUSTER_READY_LIMIT_S} per instance), then until every Deployment and StatefulSet has all
 * its replicas Ready (within {@link READY_LIMIT_S}); returns the seconds it took since `since`.
 */
async function waitWorkloadsReady(ns: string, since: number): Promise<number> {
  let from = since;
  for (const c of (await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io'])).items as K8sObject[]) {
    await waitClusterHealthy(kube, ns, c.metadata.name, c.spec.instances, CLUSTER_READY_LIMIT_S * c.spec.instances);
    // The web pods' readiness needs the database: their time starts once it is there.
    from = Date.now();
  }
  const kinds = ['deployment', 'statefulset'];
  for (const kind of kinds) {
    const items = (await kube.json(['-n', ns, 'get', kind])).items as K8sObject[];
    for (const w of items) {
      const left = Math.max(1, Math.round(READY_LIMIT_S - (Date.now() - from) / 1000));
      const r = await kube.run(['-n', ns, 'rollout', 'status', `${kind}/${w.metadata.name}`, `--timeout=${left}s`], { allowFail: true });
      if (r.code !== 0) {
        const pods = await kube.run(['-n', ns, 'get', 'pods', '-o', 'wide'], { allowFail: true });
        const events = await kube.run(['-n', ns, 'get', 'events', '--sort-by=.lastTimestamp'], { allowFail: true });
        throw new Error(`${ns} ${kind}/${w.metadata.name} not Ready within ${READY_LIMIT_S}s: ${r.stderr}\n${pods.stdout}\n${events.stdout.split('\n').slice(-15).join('\n')}`);
      }
    }
  }
  return (Date.now() - since) / 1000;
}

/** The web service's URL by its Service's DNS name. */
function serviceUrl(env: string, p = '/'): string {
  return `http://todo.${namespaces[env]}.svc.cluster.local${p}`;
}

/** Adds a task through the client pod; returns its id. */
async function addTask(env: string, client: [string, string], name: string): Promise<number> {
  const r = await clients.run(client[0], client[1], ['request', 'PUT', serviceUrl(env, '/tasks'), JSON.stringify({ name })], true);
  if (r.code !== 0) throw new Error(`PUT /tasks "${name}" failed: ${r.stdout}${r.stderr}`);
  const [status, ...body] = r.stdout.trim().split('\n');
  equal(`PUT /tasks "${name}" answers 201`, status, '201');
  return JSON.parse(body.join('\n')).id;
}

async function listTasks(env: string, client: [string, string]): Promise<Array<{ id: number; name: string }>> {
  const r = await clients.run(client[0], client[1], ['request', 'GET', serviceUrl(env, '/tasks')], true);
  if (r.code !== 0) throw new Error(`GET /tasks failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').slice(1).join('\n'));
}

/** psql in the StatefulSet's database pod, over its local socket. */
async function psql(ns: string, database: string, sql: string): Promise<string> {
  const r = await kube.run(['-n', ns, 'exec', `${DATABASE}-0`, '-c', 'postgres', '--', 'psql', '-U', 'todo', '-d', database, '-AtX', '-c', sql]);
  return r.stdout.trim();
}

/** The environment's CloudNativePG Cluster, if its database is one. */
function databaseCluster(env: string): K8sObject | undefined {
  return treeObjects(env).find(o => o.kind === 'Cluster' && o.metadata.name === DATABASE);
}

/**
 * Applies an environment as Argo CD does, waits for every pod, and proves the
 * service answers through its Service's DNS name: add, list, delete a task.
 * A StatefulSet's claims get volumes pre-bound on the first node; a
 * Cluster's instances take the unbound volumes of the nodes the scheduler
 * picks, and are checked: one per node, one primary, the web tier on it.
 * Returns the client pod ([namespace, name]).
 */
async function deployEnvironment(env: string): Promise<[string, string]> {
  const objects = treeObjects(env);
  const ns = objects[0].metadata.namespace as string;
  const db = databaseCluster(env);
  if (!db) {
    const pvs = await nodeVolumes(cluster, ns, objects);
    check(`${ns}: ${pvs.length} local PersistentVolume(s) pre-bound to the claims (the cluster program's pv)`, pvs.length > 0);
  }
  if (db) timing('every node pulled the CloudNativePG Postgres image (beside the steps before)', await postgresPulled());
  const started = Date.now();
  await applyEnvironmentAsArgo(kube, env, namespaces, TREE, { expectedWarning: expectedClusterWarning(objects) });
  timing(`${env}: apply to every pod Ready`, await waitWorkloadsReady(ns, started));
  if (db) {
    await checkWebOnCluster(kube, ns, DATABASE, db.spec.instances, db.spec.bootstrap.initdb.secret.name);
    const synchronous = (await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', DATABASE])).spec.postgresql?.synchronous;
    // The last standby to join may not stream yet when the Cluster reports its instances ready.
    let standbys: string[] = [];
    await waitFor(`${ns}: ${db.spec.instances - 1} standbys streaming from the primary`, 90_000, async () => {
      standbys = (await psqlOnPrimary(kube, ns, DATABASE, 'postgres', 'SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1')).map(l => l.replace('|', ' '));
      return standbys.length === db.spec.instances - 1;
    }, 2000).catch(() => undefined);
    check(`${ns}: synchronous replication (${JSON.stringify(synchronous)}): the primary streams to ${standbys.join(', ')}`,
      standbys.length === db.spec.instances - 1 && standbys.some(l => / (sync|quorum)$/.test(l)), standbys.join('\n'));
  }
  const pods = (await kube.json(['-n', ns, 'get', 'pods'])).items as K8sObject[];
  const running = pods.filter(p => p.status.phase === 'Running');
  check(`${ns}: every pod Running and Ready (${running.map(p => p.metadata.name).join(', ')})`,
    running.length > 0 && running.every(p => (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')));
  for (const p of running) {
    const images = p.spec.containers.map((c: any) => c.image);
    check(`${ns}/${p.metadata.name}: runs images pinned by digest from the local registry`, images.every((i: string) => i.startsWith(`${cluster.registry}/`) && i.includes('@sha256:')), images.join(' '));
  }

  const client: [string, string] = [clientNamespace(env), `client-${env}`];
  await clients.start(client[0], client[1]);
  const name = `e2e ${env} ${Date.now()}`;
  const health = await clients.eventually(client[0], client[1], ['get', serviceUrl(env, '/readyz')]);
  check(`${client.join('/')}: ${serviceUrl(env, '/readyz')} answers 2xx through CoreDNS and the ClusterIP`, health.code === 0, health.stdout + health.stderr);
  const id = await addTask(env, client, name);
  const listed = await listTasks(env, client);
  check(`${env}: GET /tasks lists the task added (id ${id})`, listed.some(t => t.id === id && t.name === name), JSON.stringify(listed));
  const del = await clients.run(client[0], client[1], ['request', 'DELETE', serviceUrl(env, `/tasks/${id}`)], true);
  equal(`${env}: DELETE /tasks/${id} answers 204`, del.stdout.trim().split('\n')[0], '204');
  check(`${env}: the task is gone`, !(await listTasks(env, client)).some(t => t.id === id));
  return client;
}

let gitServer: Promise<{ url: string; head: string }> | undefined;

/** This repository as a git server the pods reach: HEAD, on branch e2e, over smart HTTP on the host (started once). */
function repositoryServer(): Promise<{ url: string; head: string }> {
  gitServer ??= (async () => {
    const gitRoot = path.join(tmp, 'git');
    const bare = path.join(gitRoot, 'todo-gitops.git');
    await run('git', ['clone', '-q', '--bare', ROOT, bare], { env: toolEnv });
    const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT, env: toolEnv })).stdout.trim();
    await run('git', ['--git-dir', bare, 'branch', '-f', 'e2e', head], { env: toolEnv });
    const port = await freePort();
    await startGitHttpServer(gitRoot, cluster.hostIp, port);
    return { url: `${cluster.hostIp}:${port}/todo-gitops.git`, head };
  })();
  return gitServer;
}

/** Where a local PersistentVolume's files are on this machine (its spec.local.path: a node's directory is the host's). */
async function volumeDirectory(pv: string): Promise<string> {
  return (await kube.json(['get', 'pv', pv])).spec.local.path;
}

/**
 * What every pod of the cluster relies on, proven once with probe pods in a
 * namespace enforcing "restricted", before any environment depends on it.
 */
async function clusterAsPodsSeeIt(): Promise<void> {
  const ns = 'e2e-cluster';
  await clients.start(ns, 'server');
  await clients.start(ns, 'client', { serviceAccountToken: true });
  for (const name of ['server', 'client']) {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ port: 80, targetPort: 8080 }] } };
    const r = await kube.apply(YAML.stringify(service), 'e2e');
    if (r.code !== 0) throw new Error(`Service ${ns}/${name}: ${r.stderr}`);
  }
  const probe = (args: string[]) => clients.run(ns, 'client', args, true);
  const output = (r: { stdout: string; stderr: string }) => (r.stdout + r.stderr).trim();

  const clusterIp = (await kube.json(['-n', ns, 'get', 'service', 'server'])).spec.clusterIP;
  const fqdn = `server.${ns}.svc.cluster.local`;
  const lookup = await probe(['lookup', fqdn]);
  check(`${fqdn} resolves to the Service's ClusterIP ${clusterIp} (CoreDNS)`, lookup.code === 0 && lookup.stdout.trim().split(' ').slice(1).includes(clusterIp), output(lookup));
  const short = await probe(['lookup', 'server']);
  check(`the short name "server" resolves to it too (the pod's DNS search path): ${short.stdout.trim()}`, short.code === 0 && short.stdout.trim().split(' ').slice(1).includes(clusterIp), output(short));
  const get = await clients.eventually(ns, 'client', ['get', `http://${fqdn}/`]);
  check(`GET http://${fqdn}/ is answered by the server pod through the ClusterIP (kube-proxy)`, get.code === 0 && get.stdout.includes('probe server'), output(get));
  // The FQDN: the short name "client" is the pod's own hostname in its /etc/hosts.
  const hairpin = await clients.eventually(ns, 'client', ['get', `http://client.${ns}.svc.cluster.local/`]);
  check('the client reaches itself through its own Service (hairpin: pod -> ClusterIP -> the same pod)', hairpin.code === 0 && hairpin.stdout.includes('probe client'), output(hairpin));

  // A server of the test's own on the host end of the cluster's veth, as the git server and GOPROXY below are.
  const token = randomBytes(8).toString('hex');
  let from = '';
  const server = http.createServer((req, res) => {
    from = req.socket.remoteAddress ?? '';
    res.end(`host ${token}\n`);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, cluster.hostIp, resolve);
  });
  try {
    const host = await clients.eventually(ns, 'client', ['get', `http://${cluster.hostIp}:${port}/`], 10);
    check(`the client GETs a server on the host end of the veth, http://${cluster.hostIp}:${port}/ (it sees the request from ${from || 'nowhere'})`, host.code === 0 && host.stdout.includes(token), output(host));
  } finally {
    server.close();
  }

  const ca = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';
  const api = await probe(['get', 'https://kubernetes.default.svc/version', ca]);
  check(`the client GETs https://kubernetes.default.svc/version with the service account's token, TLS verified with its CA: ${/"gitVersion": "([^"]+)"/.exec(api.stdout)?.[1]}`,
    api.code === 0 && /"gitVersion": "v1\.\d+\.\d+/.test(api.stdout), output(api));
  const unverified = await probe(['get', 'https://kubernetes.default.svc/version']);
  const refusal = unverified.stderr.split('\n').find(l => l.startsWith('probe:')) ?? '';
  check(`without that CA (the image's public roots) TLS is refused: ${refusal}`, unverified.code !== 0 && /certificate/.test(refusal), output(unverified));

  const logs = await kube.run(['-n', ns, 'logs', 'server'], { allowFail: true });
  check(`kubectl logs (the API server streaming from the kubelet): "${logs.stdout.trim()}"; kubectl exec ran every probe above`, logs.code === 0 && /^serving on :8080$/m.test(logs.stdout), logs.stderr);

  const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  const [pv] = await nodeVolumes(cluster, ns, [claim]);
  const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
  const writer = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'writer', namespace: ns },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 70, runAsGroup: 70, fsGroup: 70, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'probe', image: probeImage, args: ['write', '/data/hello', 'written by uid 70'], securityContext: restricted, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
    },
  };
  const applied = await kube.apply([claim, writer].map(o => YAML.stringify(o)).join('---\n'), 'e2e');
  check('the claim and a uid-70 writer pod (fsGroup 70) applied under "restricted"', applied.code === 0, applied.stderr);
  const done = await kube.run(['-n', ns, 'wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/writer', '--timeout=120s'], { allowFail: true });
  const written = await kube.run(['-n', ns, 'logs', 'writer'], { allowFail: true });
  check(`the writer pod succeeded: ${written.stdout.trim()}`, done.code === 0 && /^uid=70 gid=70 .*wrote "written by uid 70"/.test(written.stdout), done.stderr + written.stderr);
  const pvc = await kube.json(['-n', ns, 'get', 'pvc', 'data']);
  equal(`the claim is Bound to ${pv}`, [pvc.status?.phase, pvc.spec.volumeName], ['Bound', pv]);
  const file = path.join(await volumeDirectory(pv), 'hello');
  const stat = fs.existsSync(file) ? fs.statSync(file) : undefined;
  check(`the file is in the volume's directory on its node, owned by 70:70 (${file})`, stat?.uid === 70 && stat?.gid === 70 && fs.readFileSync(file, 'utf-8') === 'written by uid 70',
    stat ? `owner ${stat.uid}:${stat.gid}` : 'missing');
  await kube.run(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
}

/**
 * dev with `operations` on ({@link DEV_WITH_BACKUP_TREE}), synthesized with the suite's lock: the
 * committed dev's objects plus the pg_dump CronJob, its volume and the exporter.
 */
function synthDevWithBackup(): void {
  const environments: Array<GitOpsEnvironment<TodoSettings>> = TODO_ENVIRONMENTS.filter(e => e.name === 'dev')
    .map(e => ({ ...e, settings: { ...e.settings, operations: true } }));
  new GitOpsRepository<TodoSettings>({ name: 'todo', ...TODO_GIT, environments, stack: buildTodoStack, platform: TODO_PLATFORM })
    .synth({ outdir: DEV_WITH_BACKUP_TREE, lock: ImageLock.fromFile(LOCK) });
}

async function main(): Promise<void> {
  let dev: [string, string] = ['', ''];
  let staging: [string, string] = ['', ''];
  const ready = await section([
    ['install/find tools: the cluster program\'s (Kubernetes v1.37.2 control plane, kubelet and kube-proxy; containerd; kube-router; CoreDNS), ko, crane, Sealed Secrets, the CloudNativePG manager (test/tools/install.sh)', async () => {
      toolEnv = await installTools([...CLUSTER_TOOLS, 'sealed-secrets', 'cloudnative-pg']);
      if (!await requireTools(toolEnv, ['kubectl', 'ko', 'crane', 'kubeseal'])) throw new Error('tools missing');
    }],
    [`cluster up: ${NODES} nodes (staging's two database instances on two of them), Ready, ${CLUSTER_VOLUMES_PER_NODE} unbound local volumes each; kube-router\'s firewall running in each; CoreDNS Ready`, async () => {
      const started = Date.now();
      cluster = await startNodesCluster(path.join(tmp, 'cluster'), toolEnv, NODES);
      kube = cluster.kube;
      timing(`cluster up (${NODES} nodes)`, (Date.now() - started) / 1000);
      for (let i = 1; i <= CLUSTER_VOLUMES_PER_NODE; i++) await volumesOnEveryNode(cluster, `instance-${i}`, '25Gi');
      const nodes = (await kube.json(['get', 'nodes'])).items as K8sObject[];
      const readyNodes = nodes.filter(n => (n.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
      equal(`every node is Ready (kubelet ${[...new Set(nodes.map(n => n.status.nodeInfo.kubeletVersion))].join(', ')})`, readyNodes.map(n => n.metadata.name).sort(), [...cluster.nodes].sort());
      // The firewall's chains exist once kube-router has started syncing the node's policies.
      for (const node of cluster.nodes) {
        const chains = async () => (await cluster.command(['exec', '--node', node, 'iptables-save', '-t', 'filter'])).stdout;
        // Its first sync waits for the API server's informers: on a loaded machine, a minute or more.
        await waitFor(`kube-router's iptables chains in ${node}`, 120_000, async () => (await chains()).includes(':KUBE-ROUTER-FORWARD'), 1000).catch(() => undefined);
        const routerLog = logFile(cluster.dir, `${node}.kube-router`);
        check(`kube-router (firewall only) runs in ${node}: its chain KUBE-ROUTER-FORWARD is in the node's iptables`, (await chains()).includes(':KUBE-ROUTER-FORWARD'),
          fs.existsSync(routerLog) ? fs.readFileSync(routerLog, 'utf-8').split('\n').slice(-15).join('\n') : `no log at ${routerLog}`);
      }
      const dns = await kube.run(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s'], { allowFail: true });
      check('CoreDNS is Ready', dns.code === 0, dns.stderr);
    }],
    ['images, built here and pushed to the cluster\'s registry: Postgres stand-in, postgres_exporter, the Sealed Secrets controller, the CloudNativePG operator and its Postgres (build.sh), the probe client and the todo service (ko); the controller and the operator applied from dist/platform, logins and prod\'s backup key sealed; the tree re-synthesized with the digests', async () => {
      baseImage = await makeBaseImage(tmp, cluster.registry, toolEnv);
      const ko = await run('ko', ['build', '--bare', '--insecure-registry', '.'], {
        cwd: path.join(ROOT, 'test', 'tools', 'probe'),
        env: { ...toolEnv, KO_DOCKER_REPO: `${cluster.registry}/e2e/probe`, KO_DEFAULTBASEIMAGE: baseImage, GOFLAGS: '-buildvcs=false' },
      });
      probeImage = ko.stdout.trim().split('\n').pop()!;
      clients = new ProbeClients(kube, probeImage);
      check(`probe client image ${probeImage}`, /@sha256:/.test(probeImage));

      // The lock a CI job would hold: the upstream images replaced by the ones built here.
      fs.mkdirSync(path.dirname(LOCK), { recursive: true });
      const lock: ImageLockDocument = JSON.parse(fs.readFileSync(path.join(ROOT, 'images.lock.json'), 'utf-8'));
      const local = await withLocalImages(lock, cluster.registry, toolEnv);
      ImageLock.write(LOCK, local);
      postgresPulled = prepullClusterPostgres(cluster, local);
      // The platform part first (the controller makes its key), then the logins sealed with its certificate.
      const platformTree = path.join(tmp, 'platform-tree');
      const synth = await run('npm', ['run', '--silent', 'synth'], {
        env: { ...toolEnv, IMAGES_LOCK_FILE: LOCK, CDK8S_OUTDIR: path.join(platformTree, 'dist'), HELM_OUTDIR: path.join(platformTree, 'helm') }, allowFail: true,
      });
      if (!check('npm run synth with the local images', synth.code === 0, synth.stderr)) throw new Error('synth failed');
      await applyPlatformAsArgo(kube, path.join(platformTree, 'dist'));
      await sealTodoSecrets(kube, SEALED_DIR);
      await buildTodoImage(cluster, toolEnv, { lock: LOCK, outdir: TREE, helmDir: path.join(tmp, 'tree', 'helm'), baseImage, sealedDir: SEALED_DIR });
      for (const env of ['dev', 'staging', 'prod']) {
        const all = imagesOf(treeObjects(env));
        check(`dist/${env}: every image is in the cluster's registry, by digest (${all.length})`, all.every(i => i.startsWith(`${cluster.registry}/`) && /@sha256:[0-9a-f]{64}$/.test(i)), all.join(' '));
      }
      for (const image of imagesOf(['dev', 'staging', 'prod'].flatMap(treeObjects))) {
        const [repo, digest] = image.split('@');
        const served = (await run('crane', ['digest', ...craneInsecure(cluster.registry), `${repo}@${digest}`], { env: toolEnv, allowFail: true })).stdout.trim();
        equal(`the registry serves ${repo.slice(cluster.registry.length + 1)}@${digest.slice(7, 19)}`, served, digest);
      }
    }],
    ['the cluster as pods see it: names through CoreDNS (also the short name), a ClusterIP through kube-proxy, a pod through its own Service (hairpin), a server on the host end of the cluster\'s veth, the API server through the `kubernetes` Service (TLS verified), kubectl logs and exec, a local volume written by a uid-70 pod with fsGroup 70', async () => {
      await clusterAsPodsSeeIt();
    }],
  ]);
  if (!ready) {
    skipSteps(['dev', 'staging', 'data', 'rollout', 'backup', 'netpol', 'kaniko', 'buildpacks'], 'the cluster, the images or the pods\' plumbing are not there');
    return;
  }

  await section([[`dev: applied as Argo CD does (Postgres a StatefulSet); every pod Ready within ${READY_LIMIT_S}s; add, list, delete a task through todo.todo-dev.svc`, async () => {
    dev = await deployEnvironment('dev');
  }]]);

  const stagingUp = await section([[`staging: applied as Argo CD does (its login sealed, opened by the controller); a CloudNativePG Cluster of two instances on two nodes, every pod Ready within ${READY_LIMIT_S}s; `
    + 'the web tier on todo-db-rw with the sealed login; tasks through the Service, from the Ingress controller\'s namespace', async () => {
    staging = await deployEnvironment('staging');
  }]]);
  if (!stagingUp) {
    skipSteps(['data', 'rollout', 'backup', 'netpol', 'kaniko', 'buildpacks'], 'staging did not come up');
    return;
  }

  await section([
    ['data (dev, the StatefulSet): delete the Postgres pod; the StatefulSet brings it back on the same volume and the tasks are still there', async () => {
      const ns = namespaces.dev;
      const ids = [];
      for (const n of ['survives 1', 'survives 2', 'survives 3']) ids.push(await addTask('dev', dev, n));
      const before = await kube.json(['-n', ns, 'get', 'pod', 'todo-db-0']);
      const volume = (await kube.json(['-n', ns, 'get', 'pvc', 'data-todo-db-0'])).spec.volumeName;
      const started = Date.now();
      await kube.run(['-n', ns, 'delete', 'pod', 'todo-db-0', '--wait=true']);
      await waitFor('todo-db-0 to be recreated and Ready', READY_LIMIT_S * 1000, async () => {
        const r = await kube.run(['-n', ns, 'get', 'pod', 'todo-db-0', '-o', 'json'], { allowFail: true });
        if (r.code !== 0) return false;
        const p = JSON.parse(r.stdout);
        return p.metadata.uid !== before.metadata.uid && (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      }, 1000);
      timing('Postgres pod deleted to its replacement Ready', (Date.now() - started) / 1000);
      equal('the new pod mounts the same PersistentVolume', (await kube.json(['-n', ns, 'get', 'pvc', 'data-todo-db-0'])).spec.volumeName, volume);
      const health = await clients.eventually(dev[0], dev[1], ['get', serviceUrl('dev', '/readyz')], 60);
      check('the web service is ready again', health.code === 0, health.stdout + health.stderr);
      const listed = await listTasks('dev', dev);
      equal('the three tasks are still there', ids.map(id => listed.find(t => t.id === id)?.name), ['survives 1', 'survives 2', 'survives 3']);
    }],
    [`rollout (staging): the web Deployment rolled to a new image digest while a client sends requests (until ${LOAD_STEADY_S}s after the old pods are gone); zero failed requests; `
      + 'the tasks written before are still there, the new web pods connected to the primary', async () => {
      const ns = namespaces.staging;
      const ids = [];
      for (const n of ['survives 1', 'survives 2', 'survives 3']) ids.push(await addTask('staging', staging, n));
      const lock = ImageLock.fromFile(LOCK);
      const todo = lock.tryGet('todo')!;
      // Same binary, new digest: a label on the image config, as a rebuild with new metadata gives.
      const tagged = `${todo.repository}:e2e-rollout`;
      await run('crane', ['mutate', ...craneInsecure(cluster.registry), `${todo.repository}@${todo.digest}`, '--label', `e2e.rollout=${Date.now()}`, '-t', tagged], { env: toolEnv });
      const digest = (await run('crane', ['digest', ...craneInsecure(cluster.registry), tagged], { env: toolEnv })).stdout.trim();
      check(`new digest ${digest.slice(0, 19)} differs from ${todo.digest.slice(0, 19)}`, digest !== todo.digest && /^sha256:/.test(digest));
      const rolled = path.join(tmp, 'rolled');
      const rolledLock = path.join(tmp, 'rolled.lock.json');
      ImageLock.write(rolledLock, { ...lock.contents, images: { ...lock.contents.images, todo: { ...todo, digest } } });
      const synth = await run('npm', ['run', '--silent', 'synth'], {
        env: { ...toolEnv, IMAGES_LOCK_FILE: rolledLock, SEALED_SECRETS_DIR: SEALED_DIR, CDK8S_OUTDIR: rolled, HELM_OUTDIR: path.join(tmp, 'rolled-helm') }, allowFail: true,
      });
      check('npm run synth with the new digest', synth.code === 0, synth.stderr);
      const stagingFiles = fs.readdirSync(path.join(rolled, 'staging')).map(f => path.join(rolled, 'staging', f));

      const loadOut: string[] = [];
      // until-eof: closing kubectl's stdin ends the loop once the old pods have finished shutting down.
      const load = spawn('kubectl', ['-n', staging[0], 'exec', '-i', staging[1], '--', PROBE, 'load', serviceUrl('staging', '/tasks'), String(LOAD_SECONDS), 'until-eof'],
        { env: kube.env });
      load.stdout.on('data', d => loadOut.push(String(d)));
      load.stderr.on('data', d => loadOut.push(String(d)));
      const loadDone = new Promise<number | null>(resolve => load.on('exit', resolve));
      try {
        await sleep(5000);
        const started = Date.now();
        const applied = await kube.run(['apply', '--server-side', '--field-manager=argocd-controller', ...stagingFiles.flatMap(f => ['-f', f])]);
        check('the re-synthesized dist/staging applied', applied.code === 0, applied.stderr);
        const status = await kube.run(['-n', ns, 'rollout', 'status', 'deployment/todo', `--timeout=${READY_LIMIT_S}s`], { allowFail: true });
        check('the rollout completed', status.code === 0, status.stderr);
        timing('rolling update of the web Deployment', (Date.now() - started) / 1000);
        // The replaced pods serve through their shutdown delay: the loop covers it to the end.
        const settled = await kube.settle(ns, 'deployment/todo', READY_LIMIT_S);
        check('the replaced web pods are gone', settled.code === 0, settled.stderr);
        await sleep(LOAD_STEADY_S * 1000);
      } finally {
        load.stdin.end();
      }
      const code = await loadDone;
      const summary = loadOut.join('').trim();
      progress(`  client: ${summary.split('\n')[0]}`);
      check(`zero failed requests during the rollout (${summary.split('\n')[0]})`, code === 0 && /failed=0$/m.test(summary), summary);
      const pods = (await kube.json(['-n', ns, 'get', 'pods', '-l', labelSelector({ 'app.kubernetes.io/component': 'web' })])).items as K8sObject[];
      const images = [...new Set(pods.filter(p => !p.metadata.deletionTimestamp).map(p => p.spec.containers[0].image))];
      equal('every web pod runs the new digest', images, [`${todo.repository}@${digest}`]);
      const listed = await listTasks('staging', staging);
      equal('the three tasks written before the rollout are still there', ids.map(id => listed.find(t => t.id === id)?.name), ['survives 1', 'survives 2', 'survives 3']);
      await checkWebOnCluster(kube, ns, DATABASE, databaseCluster('staging')!.spec.instances, SEALED_LOGIN);
    }],
    ['backup (dev with operations on: staging on CloudNativePG has no pg_dump CronJob): re-applied, the CronJob run now writes a dump to its volume; the README\'s restore puts it into a fresh database with the same rows', async () => {
      synthDevWithBackup();
      const objects = distObjects('dev', DEV_WITH_BACKUP_TREE);
      check('the override adds the CronJob todo-db-backup to dev', objects.some(o => o.kind === 'CronJob' && o.metadata.name === 'todo-db-backup') && !treeObjects('dev').some(o => o.kind === 'CronJob'));
      const ns = namespaces.dev;
      await nodeVolumes(cluster, ns, objects.filter(o => o.kind === 'PersistentVolumeClaim'));
      const started = Date.now();
      await applyEnvironmentAsArgo(kube, 'dev', namespaces, DEV_WITH_BACKUP_TREE);
      timing('dev with operations: apply to every pod Ready', await waitWorkloadsReady(ns, started));
      const job = await kube.run(['-n', ns, 'create', 'job', 'e2e-backup', '--from=cronjob/todo-db-backup']);
      check('kubectl create job --from=cronjob/todo-db-backup', job.code === 0, job.stderr);
      const done = await kube.run(['-n', ns, 'wait', '--for=condition=Complete', 'job/e2e-backup', '--timeout=180s'], { allowFail: true });
      const logs = await kube.run(['-n', ns, 'logs', 'job/e2e-backup'], { allowFail: true });
      check(`the backup Job completed: ${logs.stdout.trim()}`, done.code === 0, done.stderr + logs.stderr);
      const volume = await volumeDirectory((await kube.json(['-n', ns, 'get', 'pvc', 'todo-db-backup'])).spec.volumeName);
      const dumps = fs.readdirSync(volume).filter(f => f.endsWith('.dump'));
      check(`a dump is on the backup volume: ${dumps.join(', ')}`, dumps.length === 1 && fs.statSync(path.join(volume, dumps[0])).size > 0);

      const restore = await run('bash', [path.join(ROOT, 'scripts', 'restore-postgres.sh'), ns, 'todo-db', 'todo_restored'], { env: kube.env, allowFail: true, echo: '    | ' });
      check(`scripts/restore-postgres.sh (the README's restore) exits 0: ${restore.stdout.trim().split('\n').pop()}`, restore.code === 0, restore.stderr);
      const rows = 'SELECT id, name, created_at FROM tasks ORDER BY id';
      const live = await psql(ns, 'todo', rows);
      const restored = await psql(ns, 'todo_restored', rows);
      check(`the restored database has the same ${live.split('\n').length} rows as the live one`, live !== '' && restored === live, `live:\n${live}\nrestored:\n${restored}`);
    }],
    ['NetworkPolicies enforced (staging): an unconnected pod cannot reach Postgres (todo-db-rw), the web pods can, Postgres (the primary) cannot open connections out', async () => {
      const ns = namespaces.staging;
      const db = `${DATABASE}-rw.${ns}.svc.cluster.local:5432`;
      await clients.start('e2e-outsider', 'outsider');
      const outsider = await clients.run('e2e-outsider', 'outsider', ['dial', db], true);
      const firstLine = (r: { stdout: string; stderr: string }) => (r.stderr || r.stdout).trim().split('\n')[0];
      check(`a pod in another namespace cannot connect to ${db}: ${firstLine(outsider)}`, outsider.code !== 0);
      await clients.start(ns, 'unlabelled');
      const sameNs = await clients.run(ns, 'unlabelled', ['dial', db], true);
      check(`an unconnected pod in ${ns} cannot connect to Postgres: ${firstLine(sameNs)}`, sameNs.code !== 0);
      await clients.start(ns, 'web-labelled', { labels: { 'app.kubernetes.io/name': 'todo', 'app.kubernetes.io/component': 'web' } });
      // kube-router admits a new pod once its policy sync has put the pod's address in the policy's
      // ipset, a moment after the pod is Ready (seconds on a loaded machine; before, the dial is
      // refused like the outsider's): the dial is retried for a while.
      const admitting = Date.now();
      const web = await clients.eventually(ns, 'web-labelled', ['dial', db], WEB_POLICY_SYNC_S);
      const endpoints = web.code === 0 ? ''
        : (await kube.run(['-n', ns, 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${DATABASE}-rw`, '-o', 'wide'], { allowFail: true })).stdout;
      check(`a pod with the web service's labels connects to Postgres (after ${((Date.now() - admitting) / 1000).toFixed(1)} s): ${web.stdout.trim()}`,
        web.code === 0, `${web.stderr}\n${endpoints}`);
      await kube.run(['-n', ns, 'delete', 'pod', 'web-labelled', '--wait=false']);
      // A target every policy admits: the outsider's server, in a namespace without policies.
      const outsiderIp = (await kube.json(['-n', 'e2e-outsider', 'get', 'pod', 'outsider'])).status.podIP;
      const control = await clients.run(ns, 'unlabelled', ['dial', `${outsiderIp}:8080`], true);
      check(`positive control: a pod of ${ns} that no policy selects connects to the outsider (${outsiderIp}:8080)`, control.code === 0, control.stderr);
      const { primary } = await clusterStatus(kube, ns, DATABASE);
      const out = await kube.run(['-n', ns, 'exec', primary, '-c', 'postgres', '--', 'bash', '-c',
        `timeout 3 bash -c '</dev/tcp/${outsiderIp}/8080' && echo connected`], { allowFail: true });
      check(`Postgres cannot open a connection out, to the same address (${outsiderIp}:8080)`, out.code !== 0 && !out.stdout.includes('connected'), out.stdout + out.stderr);
    }],
  ]);

  await section([['kaniko: KanikoBuildJob\'s manifests run as a Job that builds app/Dockerfile from git and pushes to the cluster\'s registry; the digest it reports is the one served, and that image runs dev', async () => {
    if (!fs.existsSync(KANIKO_SOURCE_TARBALL)) throw new Error(`the kaniko source ${KANIKO_SOURCE_TARBALL} is missing (set KANIKO_SOURCE_TARBALL)`);
    const [executor] = (await run('bash', [IMAGES_SH, 'kaniko', cluster.registry], { env: { ...toolEnv, KANIKO_SOURCE_TARBALL }, echo: '    | ' })).stdout.trim().split('\n');
    const goImage = await makeGoBuilderImage(tmp, cluster.registry, path.join(ROOT, 'app'), toolEnv);

    const { url: gitUrl, head } = await repositoryServer();

    const ns = 'e2e-build';
    await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': KANIKO_POD_SECURITY_LEVEL } } }), 'e2e');
    await kube.run(['-n', ns, 'create', 'secret', 'generic', 'registry-push', '--type=kubernetes.io/dockerconfigjson', '--from-literal=.dockerconfigjson={"auths":{}}']);
    const chart = new Chart(new App(), 'build', { namespace: ns, disableResourceNameHashes: true });
    const [executorRepo, executorDigest] = executor.split('@');
    const build = new KanikoBuildJob(chart, 'build-todo', {
      image: ContainerImage.fromDigest(executorRepo, executorDigest),
      gitContext: `git://${gitUrl}#refs/heads/e2e`,
      gitTransport: 'http',
      repository: `${cluster.registry}/acme/todo-kaniko`,
      tag: head.slice(0, 12),
      dockerConfigSecret: 'registry-push',
      buildArgs: { GO_IMAGE: goImage },
    });
    const applied = await kube.apply(chart.toJson().map(o => YAML.stringify(o)).join('---\n'), 'e2e');
    check(`KanikoBuildJob ${build.name} applied in ${ns} (Pod Security "${KANIKO_POD_SECURITY_LEVEL}")`, applied.code === 0 && applied.stderr.trim() === '', applied.stderr);
    const started = Date.now();
    const done = await kube.run(['-n', ns, 'wait', '--for=condition=Complete', `job/${build.name}`, '--timeout=900s'], { allowFail: true });
    const logs = await kube.run(['-n', ns, 'logs', `job/${build.name}`, '--tail=15'], { allowFail: true });
    if (!check('the kaniko Job completed', done.code === 0, `${done.stderr}\n${logs.stdout}`)) return;
    timing('kaniko Job: git fetch, Go build, push', (Date.now() - started) / 1000);
    const reported = (await kube.run(['-n', ns, 'get', 'pods', '-l', `job-name=${build.name}`, '-o', 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}'])).stdout.trim();
    const served = (await run('crane', ['digest', ...craneInsecure(cluster.registry), build.destination], { env: toolEnv })).stdout.trim();
    check(`the digest the Job reports (${reported.slice(0, 19)}, its termination message) is the one the registry serves for ${build.destination.slice(cluster.registry.length + 1)}`,
      /^sha256:[0-9a-f]{64}$/.test(reported) && reported === served, `reported ${reported}, served ${served}`);

    const image = `${cluster.registry}/acme/todo-kaniko@${reported}`;
    await kube.run(['-n', namespaces.dev, 'set', 'image', 'deployment/todo', `app=${image}`]);
    const rolled = await kube.run(['-n', namespaces.dev, 'rollout', 'status', 'deployment/todo', `--timeout=${READY_LIMIT_S}s`], { allowFail: true });
    check('dev runs the kaniko-built image, Ready', rolled.code === 0, rolled.stderr);
    const client: [string, string] = [clientNamespace('dev'), 'client-dev'];
    const id = await addTask('dev', client, 'built by kaniko');
    check('the kaniko-built service stores and lists tasks', (await listTasks('dev', client)).some(t => t.id === id));
  }]]);

  await section([['buildpacks: BuildpacksBuildJob\'s manifests run as a Job under Pod Security "restricted": git fetches the commit, the CNB lifecycle builds app/ with the project\'s builder and pushes; the digest it reports is the one served, and that image runs dev; a rebuild restores the cached layers', async () => {
    const lifecycleEnv = await installTools(['lifecycle']);
    const made = await run('bash', [path.join(ROOT, 'buildpacks', 'build-builder.sh'), `${cluster.registry}/cnb/builder`, baseImage], {
      env: { ...lifecycleEnv, ...toolEnv, CRANE_INSECURE: craneInsecure(cluster.registry).length > 0 ? '1' : '0' }, echo: '    | ',
    });
    const builder = made.stdout.trim().split('\n').pop()!;
    const gitImage = await makeGitImage(tmp, cluster.registry, toolEnv);
    check(`builder ${builder.slice(cluster.registry.length + 1, -52)} and git image made here, by digest`, /@sha256:/.test(builder) && /@sha256:/.test(gitImage), `${builder} ${gitImage}`);
    // The Go buildpack fetches the toolchain go.mod asks for and the modules; pods reach this proxy on the host.
    const goproxyPort = await startGoProxy(path.join(ROOT, 'app'), toolEnv, cluster.hostIp);
    const { url: gitUrl, head } = await repositoryServer();

    const ns = 'e2e-buildpacks';
    await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } }), 'e2e');
    await kube.run(['-n', ns, 'create', 'secret', 'generic', 'registry-push', '--type=kubernetes.io/dockerconfigjson', '--from-literal=.dockerconfigjson={"auths":{}}']);
    const [builderRepo, builderDigest] = builder.split('@');
    const [gitRepo, gitDigest] = gitImage.split('@');
    const repository = `${cluster.registry}/acme/todo-buildpacks`;
    /** Applies a BuildpacksBuildJob, waits for it; returns what it reported, its creator's log and how long it took. */
    const buildJob = async (id: string, tag: string) => {
      const chart = new Chart(new App(), id, { namespace: ns, disableResourceNameHashes: true });
      const build = new BuildpacksBuildJob(chart, id, {
        builder: ContainerImage.fromDigest(builderRepo, builderDigest),
        gitImage: ContainerImage.fromDigest(gitRepo, gitDigest),
        gitUrl: `http://${gitUrl}`,
        gitRevision: 'refs/heads/e2e',
        repository,
        tag,
        dockerConfigSecret: 'registry-push',
        buildEnv: { GOPROXY: `http://${cluster.hostIp}:${goproxyPort}`, GOSUMDB: 'off' },
        insecureRegistries: [cluster.registry],
      });
      // cdk8s's writer quotes what YAML 1.1 would read as a boolean (GOSUMDB: "off").
      const applied = await kube.apply(Yaml.stringify(...chart.toJson()), 'e2e');
      check(`BuildpacksBuildJob ${build.name} applied in ${ns} (Pod Security "restricted" enforced, no warning)`, applied.code === 0 && applied.stderr.trim() === '', applied.stderr);
      const started = Date.now();
      const done = await kube.run(['-n', ns, 'wait', '--for=condition=Complete', `job/${build.name}`, '--timeout=900s'], { allowFail: true });
      const seconds = (Date.now() - started) / 1000;
      const logs = async (c: string, tail = 40) => (await kube.run(['-n', ns, 'logs', `job/${build.name}`, '-c', c, `--tail=${tail}`], { allowFail: true })).stdout;
      if (!check(`the buildpacks Job ${build.name} completed`, done.code === 0, `${done.stderr}\nsource:\n${await logs('source')}\ncreator:\n${await logs('creator')}\nreport:\n${await logs('report')}`)) {
        throw new Error(`${build.name} did not complete`);
      }
      const pod = (await kube.json(['-n', ns, 'get', 'pods', '-l', `job-name=${build.name}`])).items[0];
      const served = (await run('crane', ['digest', ...craneInsecure(cluster.registry), build.destination], { env: toolEnv })).stdout.trim();
      return {
        build,
        seconds,
        served,
        creatorLog: await logs('creator', -1),
        commit: pod.status.initContainerStatuses[0].state.terminated.message as string,
        reported: (pod.status.containerStatuses[0].state.terminated.message ?? '').trim() as string,
      };
    };

    const first = await buildJob('build-todo', head.slice(0, 12));
    timing('buildpacks Job: git fetch, detect, Go toolchain fetched, cold build, export, push', first.seconds);
    progress(first.creatorLog.trim().split('\n').slice(-6).map(l => `    | ${l}`).join('\n'));
    check('no colour codes in the lifecycle\'s log (-no-color)', !first.creatorLog.includes('\u001b['), first.creatorLog.slice(0, 300));
    equal('the source container reports the commit it fetched (its termination message)', first.commit, head);
    const reported = first.reported;
    check(`the digest the Job reports (${reported.slice(0, 19)}, its termination message) is the one the registry serves for ${first.build.destination.slice(cluster.registry.length + 1)}`,
      /^sha256:[0-9a-f]{64}$/.test(reported) && reported === first.served, `reported ${reported}, served ${first.served}`);
    const config = JSON.parse((await run('crane', ['config', ...craneInsecure(cluster.registry), `${repository}@${reported}`], { env: toolEnv })).stdout);
    const meta = JSON.parse(config.config?.Labels?.['io.buildpacks.build.metadata'] ?? '{}');
    equal('detection chose the Go group; its web process is the binary it built', [meta.buildpacks?.map((b: any) => b.id), meta.processes?.map((p: any) => p.type)], [['acme/go'], ['web']]);
    equal('the image runs as the run image\'s non-root user', config.config?.User, '65532');

    const image = `${repository}@${reported}`;
    await kube.run(['-n', namespaces.dev, 'set', 'image', 'deployment/todo', `app=${image}`]);
    const rolled = await kube.run(['-n', namespaces.dev, 'rollout', 'status', 'deployment/todo', `--timeout=${READY_LIMIT_S}s`], { allowFail: true });
    check('dev runs the buildpacks-built image by digest (its launcher, Pod Security "restricted"), Ready', rolled.code === 0, rolled.stderr);
    const client: [string, string] = [clientNamespace('dev'), 'client-dev'];
    const id = await addTask('dev', client, 'built by buildpacks');
    check('the buildpacks-built service stores and lists tasks', (await listTasks('dev', client)).some(t => t.id === id));

    // The same commit again: the lifecycle restores the toolchain and Go caches from the cache image.
    const again = await buildJob('rebuild-todo', `${head.slice(0, 12)}-rebuild`);
    timing('buildpacks Job rebuild: layers restored from the cache image', again.seconds);
    check('the rebuild restored the Go toolchain layer from the cache image',
      again.creatorLog.includes('Restoring data for "acme/go:go" from cache') && again.creatorLog.includes('reusing the cached toolchain layer'), again.creatorLog);
    equal('the rebuild reports the digest the registry serves, the same as the first build\'s', [again.reported, again.served], [reported, reported]);
    await kube.run(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
  }]]);

  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
