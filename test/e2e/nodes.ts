/**
 * End-to-end drills of the web tier on several nodes (issue 16): the
 * multi-node cluster program of test/tools/cluster/ (three worker nodes of
 * Kubernetes v1.37.2, zones a, b and c), prod of the todo tree applied as
 * Argo CD does, and a client on a node the drills never disturb sending
 * requests to the web Service the whole time, every one counted:
 *
 * - placement: prod's web replicas land on three different nodes and zones;
 * - drain of a node running a replica: zero failed requests;
 * - two nodes drained at once: the PodDisruptionBudget makes the second
 *   eviction wait for the first replacement ("Cannot evict pod as it would
 *   violate the pod's disruption budget"); zero failed requests;
 * - node loss (every process of a worker killed at once): failed requests,
 *   seconds until the lost pod leaves the Service's endpoints and until its
 *   replacement is Ready elsewhere (the construct's 30 s toleration);
 * - the node returns: it rejoins, and nothing is duplicated.
 *
 *   sudo npx ts-node test/e2e/nodes.ts   # root; a few minutes with tools cached
 *
 * Prints "[e2e i/N] ..." and ends with "N passed, N failed".
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { K8sObject, Kubectl, applyEnvironmentAsArgo, distObjects, labelSelector } from './cluster-support';
import { ROOT, check, e2eMain, equal, installTools, progress, recordTiming, run, section, skipSteps, sleep, waitFor } from './harness';
import { PROBE, ProbeClients } from './probe-support';
import { NodesCluster, buildTodoImage, nodeVolumes, startNodesCluster, withLocalImages } from './real-cluster-support';
import { makeBaseImage } from './registry-support';
import { applyPlatformAsArgo, sealDatabaseLogins } from './sealed-secrets-support';
import { ImageLock, ImageLockDocument } from '../../src';
import { CLUSTER_TOOLS } from '../tools/cluster/cluster';

const STEPS = 8;
const NODES = 3;
const READY_LIMIT_S = 240;
/** Seconds of load around a drain. */
const DRAIN_LOAD_S = 45;
/** Seconds of load around a node loss: the node controller's grace period, the 30 s toleration, the replacement's start. */
const LOSS_LOAD_S = 150;
const ENV = 'prod';
/** The namespace prod's web NetworkPolicy admits clients from (the Ingress controller's). */
const CLIENT_NS = 'ingress-nginx';
const CLIENT = 'load';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-nodes-'));
const TREE = path.join(tmp, 'tree', 'dist');
const LOCK = path.join(tmp, 'tree', 'images.lock.json');
const SEALED_DIR = path.join(tmp, 'sealed-secrets');
let toolEnv: NodeJS.ProcessEnv = process.env;
let cluster: NodesCluster;
let kube = new Kubectl(process.env);
let clients: ProbeClients;
const namespaces: Record<string, string> = {};
const timings: string[] = [];

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

const WEB = labelSelector({ 'app.kubernetes.io/name': 'todo', 'app.kubernetes.io/component': 'web' });

/** prod's web pods that are not being deleted, with their node and readiness. */
async function webPods(): Promise<Array<{ name: string; node: string; ip: string; ready: boolean }>> {
  const items = (await kube.json(['-n', namespaces[ENV], 'get', 'pods', '-l', WEB])).items as K8sObject[];
  return items.filter(p => !p.metadata.deletionTimestamp).map(p => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    ip: p.status.podIP ?? '',
    ready: (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
  }));
}

/**
 * Requests to the web Service from the client pod for `seconds`, counted. By
 * ClusterIP: a drill that drains or loses CoreDNS's nodes must not count DNS
 * failures as the web tier's.
 */
async function startLoad(seconds: number): Promise<{ done: Promise<{ requests: number; failed: number; output: string }> }> {
  const clusterIp = (await kube.json(['-n', namespaces[ENV], 'get', 'service', 'todo'])).spec.clusterIP;
  const out: string[] = [];
  const child = spawn('kubectl', ['-n', CLIENT_NS, 'exec', CLIENT, '--', PROBE, 'load', `http://${clusterIp}/tasks`, String(seconds)], { env: kube.env });
  child.stdout.on('data', d => out.push(String(d)));
  child.stderr.on('data', d => out.push(String(d)));
  const done = new Promise<{ requests: number; failed: number; output: string }>(resolve => child.on('exit', () => {
    const output = out.join('').trim();
    const m = /requests=(\d+) failed=(\d+)/.exec(output);
    resolve({ requests: Number(m?.[1] ?? 0), failed: m ? Number(m[2]) : -1, output });
  }));
  return { done };
}

/** Waits until prod's web Deployment has all its replicas Ready and up to date. */
async function webSettled(timeoutS = READY_LIMIT_S): Promise<void> {
  const r = await kube.run(['-n', namespaces[ENV], 'rollout', 'status', 'deployment/todo', `--timeout=${timeoutS}s`], { allowFail: true });
  if (r.code !== 0) throw new Error(`deployment/todo not settled: ${r.stderr}`);
  await waitFor('every web replica Ready', timeoutS * 1000, async () => {
    const pods = await webPods();
    return pods.length === 3 && pods.every(p => p.ready);
  }, 1000);
}

async function main(): Promise<void> {
  const ready = await section([
    ['install/find tools: the cluster program\'s (Kubernetes v1.37.2 control plane, kubelet and kube-proxy; containerd; kube-router; CoreDNS), ko, crane', async () => {
      toolEnv = await installTools([...CLUSTER_TOOLS, 'sealed-secrets']);
    }],
    [`cluster up --nodes ${NODES}: every node Ready, on v1.37.2, each in its own zone`, async () => {
      const started = Date.now();
      cluster = await startNodesCluster(path.join(tmp, 'cluster'), toolEnv, NODES);
      kube = cluster.kube;
      timing(`cluster up (${NODES} nodes)`, (Date.now() - started) / 1000);
      const nodes = (await kube.json(['get', 'nodes'])).items as K8sObject[];
      const readyNodes = nodes.filter(n => (n.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
      equal(`${NODES} nodes Ready`, readyNodes.map(n => n.metadata.name).sort(), [...cluster.nodes].sort());
      equal('every kubelet is v1.37.2', [...new Set(nodes.map(n => n.status.nodeInfo.kubeletVersion))], ['v1.37.2']);
      equal('zones zone-a, zone-b, zone-c (topology.kubernetes.io/zone)', nodes.map(n => n.metadata.labels['topology.kubernetes.io/zone']).sort(), ['zone-a', 'zone-b', 'zone-c']);
    }],
    ['prod applied as Argo CD does, with images built here (Postgres, exporter, Sealed Secrets controller, todo by ko), its login sealed for this cluster; Postgres\' volume on the first node; the client on the first node', async () => {
      const lock: ImageLockDocument = JSON.parse(fs.readFileSync(path.join(ROOT, 'images.lock.json'), 'utf-8'));
      fs.mkdirSync(path.dirname(LOCK), { recursive: true });
      ImageLock.write(LOCK, await withLocalImages(lock, cluster.registry, toolEnv));
      const baseImage = await makeBaseImage(tmp, cluster.registry, toolEnv);
      const ko = await run('ko', ['build', '--bare', '--insecure-registry', '.'], {
        cwd: path.join(ROOT, 'test', 'tools', 'probe'),
        env: { ...toolEnv, KO_DOCKER_REPO: `${cluster.registry}/e2e/probe`, KO_DEFAULTBASEIMAGE: baseImage, GOFLAGS: '-buildvcs=false' },
      });
      clients = new ProbeClients(kube, ko.stdout.trim().split('\n').pop()!);
      const platformTree = path.join(tmp, 'platform-tree');
      const synth = await run('npm', ['run', '--silent', 'synth'], {
        env: { ...toolEnv, IMAGES_LOCK_FILE: LOCK, CDK8S_OUTDIR: path.join(platformTree, 'dist'), HELM_OUTDIR: path.join(platformTree, 'helm'), TANKA_OUTDIR: path.join(platformTree, 'tanka') },
        allowFail: true,
      });
      if (!check('npm run synth with the local images', synth.code === 0, synth.stderr)) throw new Error('synth failed');
      await applyPlatformAsArgo(kube, path.join(platformTree, 'dist'));
      await sealDatabaseLogins(kube, SEALED_DIR, ['staging', 'prod']);
      await buildTodoImage(cluster, toolEnv, { lock: LOCK, outdir: TREE, helmDir: path.join(tmp, 'tree', 'helm'), baseImage, sealedDir: SEALED_DIR });

      const objects = distObjects(ENV, TREE);
      const ns = objects[0].metadata.namespace as string;
      await nodeVolumes(cluster, ns, objects, cluster.nodes[0]);
      const started = Date.now();
      await applyEnvironmentAsArgo(kube, ENV, namespaces, TREE);
      const db = await kube.run(['-n', ns, 'rollout', 'status', 'statefulset/todo-db', `--timeout=${READY_LIMIT_S}s`], { allowFail: true });
      check('Postgres Ready', db.code === 0, db.stderr);
      await webSettled();
      timing('prod applied to every pod Ready', (Date.now() - started) / 1000);
      await clients.start(CLIENT_NS, CLIENT, { nodeName: cluster.nodes[0] });
      const health = await clients.eventually(CLIENT_NS, CLIENT, ['get', `http://todo.${ns}.svc.cluster.local/readyz`], 60);
      check(`the client on ${cluster.nodes[0]} reaches the web Service`, health.code === 0, health.stdout + health.stderr);
    }],
  ]);
  if (!ready) {
    skipSteps(['placement', 'drain', 'pdb', 'loss', 'rejoin'], 'the cluster or prod is not there');
    return;
  }

  await section([
    ['placement: prod\'s three web replicas run on three different nodes, in three zones', async () => {
      const pods = await webPods();
      const zones = new Map((await kube.json(['get', 'nodes'])).items.map((n: K8sObject) => [n.metadata.name, n.metadata.labels['topology.kubernetes.io/zone']]));
      equal('three web pods on three nodes', new Set(pods.map(p => p.node)).size, 3);
      equal('in three zones', new Set(pods.map(p => zones.get(p.node))).size, 3);
      const spec = (await kube.json(['-n', namespaces[ENV], 'get', 'deployment', 'todo'])).spec.template.spec;
      equal('spread over nodes is required, over zones preferred (from the construct)',
        spec.topologySpreadConstraints.map((c: any) => `${c.topologyKey} ${c.whenUnsatisfiable}`),
        ['kubernetes.io/hostname DoNotSchedule', 'topology.kubernetes.io/zone ScheduleAnyway']);
    }],
    [`drain: a node running a web replica drained under ${DRAIN_LOAD_S}s of requests; zero failed; the replica moves`, async () => {
      const target = cluster.nodes[2];
      const load = await startLoad(DRAIN_LOAD_S);
      await sleep(5000);
      const started = Date.now();
      const drain = await kube.run(['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s'], { allowFail: true });
      check(`kubectl drain ${target} exits 0`, drain.code === 0, drain.stderr);
      await webSettled();
      timing('drain to three web replicas Ready again', (Date.now() - started) / 1000);
      const result = await load.done;
      progress(`  client: requests=${result.requests} failed=${result.failed}`);
      check(`zero failed requests during the drain (requests=${result.requests} failed=${result.failed})`, result.failed === 0 && result.requests > 0, result.output);
      check(`no web pod on ${target} any more`, !(await webPods()).some(p => p.node === target));
      await kube.run(['uncordon', target]);
    }],
    ['two nodes drained at once by two kubectl drains: the PodDisruptionBudget (maxUnavailable 1) makes one eviction wait for the other\'s replacement; zero failed requests', async () => {
      const targets = [cluster.nodes[1], cluster.nodes[2]];
      // After the first drain its replica went to another node: spread them again first.
      await kube.run(['-n', namespaces[ENV], 'rollout', 'restart', 'deployment/todo']);
      await webSettled();
      const load = await startLoad(DRAIN_LOAD_S);
      await sleep(3000);
      // Two operators at once: both evict together, so one eviction must wait for the budget.
      const drains = await Promise.all(targets.map(node => kube.run(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=150s'], { allowFail: true })));
      drains.forEach((d, i) => check(`kubectl drain ${targets[i]} exits 0`, d.code === 0, d.stderr));
      const output = drains.map(d => d.stdout + d.stderr).join('\n');
      const blocked = output.split('\n').find(l => l.includes('Cannot evict pod as it would violate the pod\'s disruption budget'));
      check(`the budget held an eviction back: ${blocked?.trim()}`, blocked !== undefined, output);
      await webSettled();
      const result = await load.done;
      progress(`  client: requests=${result.requests} failed=${result.failed}`);
      check(`zero failed requests (requests=${result.requests} failed=${result.failed})`, result.failed === 0 && result.requests > 0, result.output);
      for (const node of targets) await kube.run(['uncordon', node]);
      await kube.run(['-n', namespaces[ENV], 'rollout', 'restart', 'deployment/todo']);
      await webSettled();
      equal('after uncordon and a restart, three web pods on three nodes again', new Set((await webPods()).map(p => p.node)).size, 3);
    }],
  ]);

  let lost = '';
  let lostPod = '';
  await section([
    [`node loss: every process of a worker running a web replica killed at once under ${LOSS_LOAD_S}s of requests; failed requests, time to leave the endpoints, time to a replacement`, async () => {
      const pods = await webPods();
      const victim = pods.find(p => p.node !== cluster.nodes[0])!;
      lost = victim.node;
      lostPod = victim.name;
      const load = await startLoad(LOSS_LOAD_S);
      await sleep(5000);
      const started = Date.now();
      const stop = await cluster.command(['stop-node', lost]);
      check(`${lost} stopped (kubelet, kube-proxy, containerd and its containers killed)`, stop.code === 0, stop.stderr);
      const seconds = () => (Date.now() - started) / 1000;
      let notReady = 0;
      let leftEndpoints = 0;
      let replaced = 0;
      while (seconds() < LOSS_LOAD_S && (!notReady || !leftEndpoints || !replaced)) {
        if (!notReady) {
          const node = await kube.json(['get', 'node', lost]);
          if ((node.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status !== 'True')) notReady = seconds();
        }
        if (!leftEndpoints) {
          const slices = (await kube.json(['-n', namespaces[ENV], 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=todo'])).items as K8sObject[];
          const serving = slices.flatMap(s => s.endpoints ?? []).filter((e: any) => e.conditions?.ready !== false).flatMap((e: any) => e.addresses);
          if (!serving.includes(victim.ip)) leftEndpoints = seconds();
        }
        if (!replaced) {
          const now = await webPods();
          if (now.filter(p => p.node !== lost && p.ready).length === 3) replaced = seconds();
        }
        await sleep(1000);
      }
      const result = await load.done;
      progress(`  client: requests=${result.requests} failed=${result.failed}`);
      check(`the node controller marked ${lost} NotReady (after ${notReady.toFixed(0)}s)`, notReady > 0);
      check(`the lost pod left the Service's ready endpoints (after ${leftEndpoints.toFixed(0)}s)`, leftEndpoints > 0);
      check(`three web replicas Ready on the other nodes (after ${replaced.toFixed(0)}s)`, replaced > 0);
      timing('node loss to NotReady', notReady);
      timing('node loss to the lost pod out of the endpoints', leftEndpoints);
      timing('node loss to three web replicas Ready elsewhere', replaced);
      timings.push(`node loss: requests=${result.requests} failed=${result.failed}`);
      // Requests kube-proxy sends to the lost pod fail until the pod leaves the endpoints: the node
      // controller's grace period, not the construct, sets that window, and most failures must fall in it.
      // A few stragglers after it (two to five per run so far, not yet explained) are reported by time;
      // all failures together stay under 2% of the requests.
      const failedAt = result.output.split('\n').map(l => /^(\d{4}-\d\d-\d\dT[^ ]+Z): /.exec(l)?.[1]).filter((t): t is string => !!t).map(t => Date.parse(t));
      const windowEnd = started + (leftEndpoints + 5) * 1000;
      const outside = failedAt.filter(t => t < started - 1000 || t > windowEnd).map(t => `+${((t - started) / 1000).toFixed(1)}s`);
      timings.push(`node loss: failed requests after the lost pod left the endpoints: ${outside.length ? outside.join(', ') : 'none'}`);
      check(`${result.failed} of ${result.requests} requests failed, ${failedAt.length - outside.length} of them while the lost pod was still an endpoint`
        + `${outside.length ? `, ${outside.length} after it (${outside.join(', ')})` : ''}`,
      failedAt.length === Math.min(result.failed, 100) && outside.length < failedAt.length / 2 && result.failed <= result.requests / 50,
      result.output);
    }],
    ['the node returns: it rejoins Ready; the lost pod is gone and nothing is duplicated (three web pods, one database)', async () => {
      const started = Date.now();
      const start = await cluster.command(['start-node', lost]);
      check(`${lost} started again`, start.code === 0, start.stderr);
      await waitFor(`${lost} Ready`, 180_000, async () => {
        const node = await kube.json(['get', 'node', lost]);
        return (node.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      }, 1000);
      timing('node back to Ready', (Date.now() - started) / 1000);
      await waitFor(`pod ${lostPod} gone`, 120_000, async () => (await kube.run(['-n', namespaces[ENV], 'get', 'pod', lostPod], { allowFail: true })).code !== 0, 1000);
      const pods = await webPods();
      equal('three web pods, all Ready', [pods.length, pods.every(p => p.ready)], [3, true]);
      const db = (await kube.json(['-n', namespaces[ENV], 'get', 'pods', '-l', labelSelector({ 'app.kubernetes.io/component': 'database' })])).items as K8sObject[];
      equal('one database pod', db.filter(p => !p.metadata.deletionTimestamp).length, 1);
    }],
  ]);

  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
