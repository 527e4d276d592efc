/**
 * The web tier's drills on several nodes (issue 16), run by test/e2e/cloudnative-pg.ts in its
 * three-node cluster once prod is applied there (the cluster program of test/tools/cluster/, nodes
 * of Kubernetes v1.37.2 in zones a, b and c; prod's database three CloudNativePG instances, one per
 * node), before Argo CD takes over. The database's primary is moved to the first node, where a
 * client the drills never disturb sends requests to the web Service the whole time, every one counted:
 *
 * - placement: prod's web replicas land on three different nodes and zones;
 * - drain of a node running a replica (its web pods; the database instance,
 *   on a node-local volume, stays: the suite's own drills cover the
 *   database's faults): zero failed requests;
 * - two nodes drained at once: the PodDisruptionBudget makes the second
 *   eviction wait for the first replacement ("Cannot evict pod as it would
 *   violate the pod's disruption budget"); zero failed requests;
 * - autoscaling: metrics-server (built here) gives the HorizontalPodAutoscaler
 *   its CPU figures; a flood of requests scales the web tier out (seconds to
 *   the first new replica Ready, failed requests), and after it the tier
 *   scales back in to three under a light load with zero failed requests
 *   (the drill shortens the scale-down window, SCALE_DOWN_STABILIZATION_S,
 *   and puts prod's autoscaler back as it was afterwards);
 * - node loss (every process of a worker killed at once): failed requests,
 *   seconds until the lost pod leaves the Service's endpoints and until its
 *   replacement is Ready elsewhere (the construct's 30 s toleration);
 * - the node returns: it rejoins, and nothing is duplicated (the web pods the Deployment wants,
 *   three database instances).
 *
 * One cluster and one prod for both tiers' drills: each took a three-node cluster and prod of its
 * own before (about three and a half minutes of a lane of `npm run test:e2e`).
 */
import { spawn } from 'child_process';
import * as YAML from 'yaml';
import { K8sObject, Kubectl, labelSelector } from './cluster-support';
import { RunResult, check, equal, inBackground, progress, recordTiming, run, section, sleep, waitFor } from './harness';
import { PROBE, ProbeClients } from './probe-support';
import { IMAGES_SH, NodesCluster, clusterInstances, clusterStatus, waitClusterHealthy } from './real-cluster-support';
import type { HorizontalAutoscaling } from '../../src';
import { NODE_MONITOR_GRACE_S } from '../tools/cluster/control-plane';

/** What the drills need from the suite that runs them: its cluster with prod applied, and where it keeps its timings. */
export interface WebTierContext {
  readonly cluster: NodesCluster;
  readonly toolEnv: NodeJS.ProcessEnv;
  /** prod's namespace. */
  readonly namespace: string;
  /** The namespace prod's web NetworkPolicy admits clients from: the drills' clients run there. */
  readonly clientNamespace: string;
  /** prod's CloudNativePG cluster. */
  readonly databaseCluster: string;
  /** The suite's client pods (the probe image in the cluster's registry). */
  readonly clients: ProbeClients;
  /** The suite's measured durations, printed again at its end. */
  readonly timings: string[];
  /** prod's autoscaling as the tree commits it (todo/environments.ts, loaded by the suite after its knobs). */
  readonly committedAutoscaling: HorizontalAutoscaling;
}

/** The drills' steps, for a suite's step count and its list of skipped steps. */
export const WEB_TIER_STEPS = ['placement', 'drain', 'two drains', 'metrics-server', 'scale-out', 'scale-in', 'web tier node loss', 'node returns'];

const READY_LIMIT_S = 240;
/** Most seconds of load around a drain; it stops DRAIN_STEADY_S after the web tier is whole again. */
const DRAIN_LOAD_S = 240;
/** Seconds of load after a drain's replacements are Ready: requests to the settled web tier. */
const DRAIN_STEADY_S = 5;
/**
 * Most seconds of load around a node loss: the node controller's grace period (NODE_MONITOR_GRACE_S),
 * the 30 s toleration, the replacement's start (85 s in all on a warm run with a 50 s grace period;
 * over 150 once on a cold one, the cores busy building tools beside it). The load stops
 * LOSS_STEADY_S after the replacement is Ready.
 */
const LOSS_LOAD_S = 240;
/** Seconds of load after a node loss's replacement is Ready: requests to the healed web tier. */
const LOSS_STEADY_S = 5;
/** Most failed requests after the lost pod left the endpoints (kube-proxy's rules trail them; two to five seen). */
const MAX_STRAGGLERS = 5;
/** What the drains evict: every pod but the database's, whose volumes are local to the node. */
const DRAINED_PODS = '!cnpg.io/cluster';
/** The client pod that loads the web tier through every drill. */
const CLIENT = 'load';
/** The client pod that floods the web tier in the autoscaling drill. */
const FLOOD_CLIENT = 'flood';
/** Concurrent connections of the flood: enough to keep the flood client's CPU busy. */
const FLOOD_WORKERS = 32;
/**
 * The CPU target the drill gives prod's HorizontalPodAutoscaler (prod's own, 70%, is asserted first
 * and restored after). Loading three web pods to 70% of their 250m request took the flood and the
 * web tier both cores for over a minute, beside two other lanes of tests (measured: CPU peaked at 79%
 * and the first scale-out came after 68 s); at 30% a client of half a core crosses it with room. The
 * autoscaler's path is the same: metrics-server's reading, the recommendation, a new replica Ready.
 */
const DRILL_CPU_TARGET_PERCENT = 30;
/** The JSON pointer of the autoscaler's CPU target. */
const CPU_TARGET_PATH = '/spec/metrics/0/resource/target/averageUtilization';
/** Most seconds of flood before the first new replica must be Ready. */
const SCALE_OUT_LIMIT_S = 300;
/**
 * The scale-down stabilization window the drill gives prod's HorizontalPodAutoscaler. prod sets no
 * `behavior`, so Kubernetes' default of 300 s applies there (measured once: back to three replicas
 * 311 s after a flood); waiting it out would cost the suite five minutes and prove nothing more
 * about the scale-in, which is the web tier's drain on SIGTERM.
 */
const SCALE_DOWN_STABILIZATION_S = 30;
/** Most seconds from the flood's end to three replicas: the window, the metrics' delay (about a minute), the pods' drain. */
const SCALE_IN_LIMIT_S = SCALE_DOWN_STABILIZATION_S + 150;
/** The autoscaler's sync period (kube-controller-manager's default): how late a recommendation may be made. */
const HPA_SYNC_PERIOD_S = 15;

// Set from the context when the drills start.
let toolEnv: NodeJS.ProcessEnv;
let cluster: NodesCluster;
let kube: Kubectl;
let clients: ProbeClients;
let ns = '';
let clientNs = '';
let dbCluster = '';
let timings: string[] = [];
let committedAutoscaling: HorizontalAutoscaling;

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

const WEB = labelSelector({ 'app.kubernetes.io/name': 'todo', 'app.kubernetes.io/component': 'web' });

/** prod's web pods that are not being deleted, with their node and readiness. */
async function webPods(): Promise<Array<{ name: string; node: string; ip: string; ready: boolean }>> {
  const items = (await kube.json(['-n', ns, 'get', 'pods', '-l', WEB])).items as K8sObject[];
  return items.filter(p => !p.metadata.deletionTimestamp).map(p => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    ip: p.status.podIP ?? '',
    ready: (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
  }));
}

/** What a load counted. */
interface LoadResult { requests: number; failed: number; output: string }

/**
 * Requests to the web Service for up to `seconds`, counted: `probe load` from
 * the client pod (one at a time, a new connection each, GET /tasks), or with
 * `flood` `probe flood` from that client (many at once, pipelined, GET
 * /healthz: CPU of the web tier, nothing of the database, and no access-log
 * line per request for the nodes to write). By ClusterIP: a drill that drains or
 * loses CoreDNS's nodes must not count DNS failures as the web tier's.
 * `stop()` ends it before `seconds` (the probe's until-eof).
 */
async function startLoad(seconds: number, flood?: { client: string; workers: number }): Promise<{ done: Promise<LoadResult>; stop: () => void }> {
  const clusterIp = (await kube.json(['-n', ns, 'get', 'service', 'todo'])).spec.clusterIP;
  const probeArgs = flood
    ? ['flood', `http://${clusterIp}/healthz`, String(seconds), String(flood.workers), 'until-eof']
    : ['load', `http://${clusterIp}/tasks`, String(seconds), 'until-eof'];
  const out: string[] = [];
  const child = spawn('kubectl', ['-n', clientNs, 'exec', '-i', flood?.client ?? CLIENT, '--', PROBE, ...probeArgs], { env: kube.env });
  child.stdout.on('data', d => out.push(String(d)));
  child.stderr.on('data', d => out.push(String(d)));
  const done = new Promise<LoadResult>(resolve => child.on('exit', () => {
    const output = out.join('').trim();
    const m = /requests=(\d+) failed=(\d+)/.exec(output);
    resolve({ requests: Number(m?.[1] ?? 0), failed: m ? Number(m[2]) : -1, output });
  }));
  const stop = () => {
    child.stdin.end();
    // Should the end of stdin not reach the probe, the load is not awaited for its whole time.
    setTimeout(() => child.kill(), 15_000).unref();
  };
  return { done, stop };
}

/** Waits until prod's web Deployment has all its replicas Ready and up to date. */
async function webSettled(timeoutS = READY_LIMIT_S): Promise<void> {
  const r = await kube.run(['-n', ns, 'rollout', 'status', 'deployment/todo', `--timeout=${timeoutS}s`], { allowFail: true });
  if (r.code !== 0) throw new Error(`deployment/todo not settled: ${r.stderr}`);
  await waitFor('every web replica Ready', timeoutS * 1000, async () => {
    const pods = await webPods();
    return pods.length === 3 && pods.every(p => p.ready);
  }, 1000);
}

/**
 * metrics-server in kube-system as upstream's manifests (manifests/base of
 * sigs.k8s.io/metrics-server v0.9.0) give it: its ServiceAccount, the
 * ClusterRoles system:metrics-server (node metrics, pods and nodes) and
 * system:aggregated-metrics-reader (metrics.k8s.io for view/edit/admin), the
 * auth-delegator binding and the extension-apiserver-authentication-reader
 * RoleBinding (it authenticates the API server's proxied requests), its
 * Service and the APIService v1beta1.metrics.k8s.io. Its Deployment differs:
 * the image built here (user 65532, the pod meets "restricted"), and the
 * flags a cluster without kubelet serving certificates signed for metrics-server
 * needs (--kubelet-insecure-tls; the nodes are reached at their InternalIP).
 */
function metricsServerObjects(image: string): object[] {
  const system = 'kube-system';
  const labels = { 'k8s-app': 'metrics-server' };
  const subject = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: system }];
  const rbac = 'rbac.authorization.k8s.io';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'metrics-server', namespace: system, labels } },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: {
        name: 'system:aggregated-metrics-reader',
        labels: { ...labels, [`${rbac}/aggregate-to-view`]: 'true', [`${rbac}/aggregate-to-edit`]: 'true', [`${rbac}/aggregate-to-admin`]: 'true' },
      },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'system:metrics-server', labels },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'metrics-server-auth-reader', namespace: system, labels },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: subject,
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'metrics-server:system:auth-delegator', labels },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: subject,
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:metrics-server', labels },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'system:metrics-server' },
      subjects: subject,
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-server', namespace: system, labels },
      spec: { selector: labels, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https', appProtocol: 'https' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'metrics-server', namespace: system, labels },
      spec: {
        selector: { matchLabels: labels },
        strategy: { rollingUpdate: { maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'metrics-server',
            priorityClassName: 'system-cluster-critical',
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'metrics-server',
              image,
              args: ['--cert-dir=/tmp', '--secure-port=10250', '--kubelet-insecure-tls', '--kubelet-preferred-address-types=InternalIP', '--metric-resolution=15s'],
              resources: { requests: { cpu: '100m', memory: '200Mi' } },
              ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, failureThreshold: 3, initialDelaySeconds: 20 },
              livenessProbe: { httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, failureThreshold: 3 },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
            }],
            // Its serving certificate is written here: the root filesystem is read-only.
            volumes: [{ name: 'tmp-dir', emptyDir: {} }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
          },
        },
      },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels },
      spec: {
        service: { name: 'metrics-server', namespace: system },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ];
}

/** prod's HorizontalPodAutoscaler: the replicas it wants and the average CPU utilization it sees (undefined while it has none). */
async function autoscaler(): Promise<{ desired: number; cpu?: number; spec: any; conditions: any[] }> {
  const hpa = await kube.json(['-n', ns, 'get', 'horizontalpodautoscaler', 'todo']);
  const cpu = (hpa.status.currentMetrics ?? []).find((m: any) => m.type === 'Resource' && m.resource?.name === 'cpu');
  return {
    desired: hpa.status.desiredReplicas ?? 0,
    cpu: cpu?.resource?.current?.averageUtilization,
    spec: hpa.spec,
    conditions: hpa.status.conditions ?? [],
  };
}

/** Every web pod of prod, terminating ones included. */
async function allWebPodCount(): Promise<number> {
  return ((await kube.json(['-n', ns, 'get', 'pods', '-l', WEB])).items as K8sObject[]).length;
}

/** prod's database: its current primary, ready instances and phase (real-cluster-support's, for prod's Cluster). */
const databaseStatus = () => clusterStatus(kube, ns, dbCluster);

/** Waits until prod's database has three ready instances and is healthy. */
const databaseHealthy = (timeoutS: number) => waitClusterHealthy(kube, ns, dbCluster, 3, timeoutS);

/** prod's database instances that are not being deleted, with their node. */
const databaseInstances = () => clusterInstances(kube, ns, dbCluster);

/**
 * Spreads the web pods over the three nodes again after a drain crowded two onto one: deletes one
 * of those two once every pod is Ready, and the spread constraint puts its replacement on the
 * empty node (a rollout restart would replace all three, one after another). Returns when three
 * Ready pods run on three nodes.
 */
async function respread(): Promise<void> {
  await waitFor('three Ready web pods on three nodes', READY_LIMIT_S * 1000, async () => {
    const pods = await webPods();
    const nodes = new Set(pods.map(p => p.node));
    if (pods.length === 3 && pods.every(p => p.ready) && nodes.size === 3) return true;
    const crowded = pods.find(p => pods.some(q => q !== p && q.node === p.node));
    if (pods.length === 3 && pods.every(p => p.ready) && crowded) await kube.run(['-n', ns, 'delete', 'pod', crowded.name, '--wait=false']);
    return false;
  }, 1000);
}

/** metrics-server as {@link startMetricsServer} left it. */
interface MetricsServerStart {
  readonly image: string;
  /** When its objects were applied (ms since the epoch). */
  readonly appliedAt: number;
  readonly applied: RunResult;
  readonly rollout: RunResult;
  /** What `kubectl top nodes` printed last, and when it first listed every node (0: never). */
  readonly top: string;
  readonly topAt: number;
  /** When prod's HorizontalPodAutoscaler first read a CPU figure (0: not within the wait). */
  readonly cpuSeenAt: number;
}

/**
 * metrics-server built, applied and waited for until `kubectl top nodes` lists every node (its
 * first scrapes take about 25 s) and prod's autoscaler reads CPU, while the drills before the
 * autoscaling drill run: its step then checks what this left. Checks nothing itself (a check
 * belongs to the step that runs it).
 */
async function startMetricsServer(): Promise<MetricsServerStart> {
  const built = await run('bash', [IMAGES_SH, 'metrics-server', cluster.registry], { env: toolEnv });
  const image = built.stdout.trim().split('\n').pop()!;
  const appliedAt = Date.now();
  const applied = await kube.apply(metricsServerObjects(image).map(o => YAML.stringify(o)).join('---\n'), 'e2e');
  const rollout = await kube.run(['-n', 'kube-system', 'rollout', 'status', 'deployment/metrics-server', `--timeout=${READY_LIMIT_S}s`], { allowFail: true });
  let top = '';
  let topAt = 0;
  await waitFor('kubectl top nodes', 120_000, async () => {
    const r = await kube.run(['top', 'nodes', '--no-headers'], { allowFail: true });
    top = r.stdout + r.stderr;
    if (r.code === 0 && cluster.nodes.every(n => r.stdout.split('\n').some(l => l.split(/\s+/)[0] === n))) topAt = Date.now();
    return topAt > 0;
  }, 2000).catch(() => undefined);
  let cpuSeenAt = 0;
  await waitFor('prod\'s HorizontalPodAutoscaler to see CPU', 120_000, async () => {
    if ((await autoscaler()).cpu !== undefined) cpuSeenAt = Date.now();
    return cpuSeenAt > 0;
  }, 2000).catch(() => undefined);
  return { image, appliedAt, applied, rollout, top, topAt, cpuSeenAt };
}

/** metrics-server starting beside the drills that come before the autoscaling drill (inBackground's). */
let metricsServer: () => Promise<MetricsServerStart>;

/**
 * Runs the drills (their steps numbered in the suite's): the database's primary moved to the first
 * node, the load's client started there, then placement, the drains, autoscaling, a node loss and
 * its return. A failed step skips the rest of its group (drains, autoscaling, node loss).
 */
export async function webTierDrills(context: WebTierContext): Promise<void> {
  ({ cluster, toolEnv, clients, timings, namespace: ns, clientNamespace: clientNs, databaseCluster: dbCluster, committedAutoscaling } = context);
  kube = cluster.kube;
  metricsServer = inBackground(startMetricsServer());
  await section([
    ['placement: prod\'s three web replicas run on three different nodes, in three zones; the database\'s primary moved to the first node, '
      + 'where the client that loads the web tier runs', async () => {
      // The drills drain and stop the other nodes: the primary goes to the first (a switchover, not a drill).
      const first = (await databaseInstances()).find(p => p.node === cluster.nodes[0])!.name;
      if ((await databaseStatus()).primary !== first) {
        await kube.run(['-n', ns, 'patch', 'clusters.postgresql.cnpg.io', dbCluster, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { targetPrimary: first } })]);
        await waitFor('the switchover to the first node\'s instance', 120_000, async () => (await databaseStatus()).primary === first, 1000);
        await databaseHealthy(300);
      }
      check(`the database: three instances on three nodes, the primary ${first} on ${cluster.nodes[0]}`,
        new Set((await databaseInstances()).map(p => p.node)).size === 3 && (await databaseStatus()).primary === first);
      await webSettled();
      await clients.start(clientNs, CLIENT, { nodeName: cluster.nodes[0] });
      const health = await clients.eventually(clientNs, CLIENT, ['get', `http://todo.${ns}.svc.cluster.local/readyz`], 60);
      check(`the client on ${cluster.nodes[0]} reaches the web Service`, health.code === 0, health.stdout + health.stderr);
      const pods = await webPods();
      const zones = new Map((await kube.json(['get', 'nodes'])).items.map((n: K8sObject) => [n.metadata.name, n.metadata.labels['topology.kubernetes.io/zone']]));
      equal('three web pods on three nodes', new Set(pods.map(p => p.node)).size, 3);
      equal('in three zones', new Set(pods.map(p => zones.get(p.node))).size, 3);
      const spec = (await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.template.spec;
      equal('spread over nodes is required, over zones preferred (from the construct)',
        spec.topologySpreadConstraints.map((c: any) => `${c.topologyKey} ${c.whenUnsatisfiable}`),
        ['kubernetes.io/hostname DoNotSchedule', 'topology.kubernetes.io/zone ScheduleAnyway']);
    }],
    [`drain: a node running a web replica drained under requests (until ${DRAIN_STEADY_S}s after it moved); zero failed; the replica moves`, async () => {
      const target = cluster.nodes[2];
      const load = await startLoad(DRAIN_LOAD_S);
      try {
        await sleep(5000);
        const started = Date.now();
        const drain = await kube.run(['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', `--pod-selector=${DRAINED_PODS}`, '--timeout=120s'], { allowFail: true });
        check(`kubectl drain ${target} exits 0`, drain.code === 0, drain.stderr);
        await webSettled();
        timing('drain to three web replicas Ready again', (Date.now() - started) / 1000);
        await sleep(DRAIN_STEADY_S * 1000);
      } finally {
        load.stop();
      }
      const result = await load.done;
      progress(`  client: requests=${result.requests} failed=${result.failed}`);
      check(`zero failed requests during the drain (requests=${result.requests} failed=${result.failed})`, result.failed === 0 && result.requests > 0, result.output);
      check(`no web pod on ${target} any more`, !(await webPods()).some(p => p.node === target));
      await kube.run(['uncordon', target]);
    }],
    ['two nodes drained at once by two kubectl drains: the PodDisruptionBudget (maxUnavailable 1) makes one eviction wait for the other\'s replacement; zero failed requests', async () => {
      const targets = [cluster.nodes[1], cluster.nodes[2]];
      // After the first drain its replica went to another node: spread them again first.
      await respread();
      const load = await startLoad(DRAIN_LOAD_S);
      try {
        await sleep(3000);
        // Two operators at once: both evict together, so one eviction must wait for the budget.
        const drains = await Promise.all(targets.map(node => kube.run(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', `--pod-selector=${DRAINED_PODS}`, '--timeout=150s'],
          { allowFail: true })));
        drains.forEach((d, i) => check(`kubectl drain ${targets[i]} exits 0`, d.code === 0, d.stderr));
        const output = drains.map(d => d.stdout + d.stderr).join('\n');
        const blocked = output.split('\n').find(l => l.includes('Cannot evict pod as it would violate the pod\'s disruption budget'));
        check(`the budget held an eviction back: ${blocked?.trim()}`, blocked !== undefined, output);
        // With two of three nodes cordoned, the first node (the primary's 1 CPU) has room for two web
        // pods, not three: the third replacement waits for the nodes to return, serving on two meanwhile.
        for (const node of targets) await kube.run(['uncordon', node]);
        await webSettled();
        await sleep(DRAIN_STEADY_S * 1000);
      } finally {
        load.stop();
      }
      const result = await load.done;
      progress(`  client: requests=${result.requests} failed=${result.failed}`);
      check(`zero failed requests (requests=${result.requests} failed=${result.failed})`, result.failed === 0 && result.requests > 0, result.output);
      await respread();
      equal('after uncordon, three web pods on three nodes again', new Set((await webPods()).map(p => p.node)).size, 3);
    }],
  ]);

  // The autoscaling drill runs before the node loss: it needs every node, and a node loss that
  // fails a check skips the rejoin.
  let floodStoppedAt = 0;
  /** The most replicas the autoscaler asked for, in the flood or after it (the metrics trail the load). */
  let peakReplicas = 3;
  let lightLoad: { done: Promise<LoadResult>; stop: () => void } | undefined;
  await section([
    ['metrics-server (image built here by build.sh, applied when the drills began) in kube-system, meeting "restricted": `kubectl top nodes` lists every node, '
      + 'prod\'s HorizontalPodAutoscaler sees its CPU', async () => {
      const { image, appliedAt, applied, rollout, top, topAt, cpuSeenAt } = await metricsServer();
      check(`metrics-server image built here and pushed: ${image}`, /@sha256:[0-9a-f]{64}$/.test(image));
      check('metrics-server\'s objects applied', applied.code === 0, applied.stderr);
      check('metrics-server Ready', rollout.code === 0, rollout.stderr);
      // Every node schedulable, whatever an earlier drill left cordoned: the new replicas need room.
      for (const node of cluster.nodes) await kube.run(['uncordon', node]);
      // kube-system enforces no Pod Security level (CoreDNS, kube-router's peers): the pod is tried, server-side
      // and dry, in the client's namespace, which enforces "restricted" (its service account and priority class
      // exist only in kube-system, and Pod Security does not look at them).
      const template = (metricsServerObjects(image) as any[]).find(o => o.kind === 'Deployment').spec.template;
      const { serviceAccountName: _account, priorityClassName: _priority, ...podSpec } = template.spec;
      const trial = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'metrics-server-restricted', namespace: clientNs }, spec: podSpec };
      const restricted = await kube.run(['create', '--dry-run=server', '-f', '-'], { input: YAML.stringify(trial), allowFail: true });
      check('metrics-server\'s pod is admitted where Pod Security "restricted" is enforced (server-side dry run)', restricted.code === 0 && !/warning/i.test(restricted.stderr),
        restricted.stderr);
      if (topAt) timing('metrics-server applied to `kubectl top nodes` answering', (topAt - appliedAt) / 1000);
      progress(top.trim().split('\n').map(l => `    | ${l}`).join('\n'));
      check('kubectl top nodes lists every node', topAt > 0 && cluster.nodes.every(n => top.includes(n)), top);
      if (cpuSeenAt) timing('metrics-server applied to the HorizontalPodAutoscaler first seeing CPU', (cpuSeenAt - appliedAt) / 1000);
      // The reading comes and goes: a pod the drains just started has no metrics yet, and the
      // autoscaler then reports FailedGetResourceMetric. The flood needs it now.
      let seen = await autoscaler();
      await waitFor('prod\'s HorizontalPodAutoscaler to see CPU', 120_000, async () => {
        seen = await autoscaler();
        return seen.cpu !== undefined;
      }, 2000).catch(() => undefined);
      const active = seen.conditions.find((c: any) => c.type === 'ScalingActive');
      check(`prod's HorizontalPodAutoscaler reads CPU: ${seen.cpu}% of the request, ScalingActive ${active?.status} (${active?.reason})`,
        typeof seen.cpu === 'number' && active?.status === 'True', JSON.stringify(seen.conditions));
      equal('it keeps the three replicas of its minimum while idle', seen.desired, 3);
    }],
    [`scale-out: a flood of requests (${FLOOD_WORKERS} connections, pipelined GET /healthz) from a client on the second node; seconds to the autoscaler's first scale-out and to the first new replica Ready; failed requests`, async () => {
      const hpa = await autoscaler();
      equal(`prod's autoscaler: ${hpa.spec.minReplicas} to ${hpa.spec.maxReplicas} replicas at ${hpa.spec.metrics[0].resource.target.averageUtilization}% CPU, as committed`,
        [hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.target.averageUtilization],
        [committedAutoscaling.minReplicas, committedAutoscaling.maxReplicas, committedAutoscaling.targetCpuUtilization]);
      equal('prod\'s autoscaler sets no behavior (Kubernetes\' default scale-down window, 300 s, applies)', hpa.spec.behavior, undefined);
      // The drill's shorter window (see SCALE_DOWN_STABILIZATION_S; scaling up keeps its default) and lower
      // target (see DRILL_CPU_TARGET_PERCENT).
      const patched = await kube.run(['-n', ns, 'patch', 'horizontalpodautoscaler', 'todo', '--type=json', '-p', JSON.stringify([
        { op: 'replace', path: CPU_TARGET_PATH, value: DRILL_CPU_TARGET_PERCENT },
        { op: 'add', path: '/spec/behavior', value: { scaleDown: { stabilizationWindowSeconds: SCALE_DOWN_STABILIZATION_S } } },
      ])], { allowFail: true });
      check(`the drill sets the CPU target to ${DRILL_CPU_TARGET_PERCENT}% and the scale-down window to ${SCALE_DOWN_STABILIZATION_S} s (kubectl patch)`,
        patched.code === 0, patched.stderr);
      // The flood's client gets a CPU request of its own, or the web pod beside it, loaded by it, would starve it.
      // Not on the first node: Postgres' request leaves too little there.
      await clients.start(clientNs, FLOOD_CLIENT, { nodeName: cluster.nodes[1], cpu: { request: '250m', limit: '500m' } });
      const before = new Set((await webPods()).map(p => p.name));
      const flood = await startLoad(SCALE_OUT_LIMIT_S, { client: FLOOD_CLIENT, workers: FLOOD_WORKERS });
      const started = Date.now();
      const seconds = () => (Date.now() - started) / 1000;
      let scaledOut = 0;
      let newReady = 0;
      let peakCpu = 0;
      try {
        while (seconds() < SCALE_OUT_LIMIT_S && !newReady) {
          const now = await autoscaler();
          peakCpu = Math.max(peakCpu, now.cpu ?? 0);
          const replicas = (await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.replicas;
          peakReplicas = Math.max(peakReplicas, replicas);
          if (!scaledOut && replicas > 3) {
            scaledOut = seconds();
            progress(`  the autoscaler scaled out to ${replicas} after ${scaledOut.toFixed(0)}s`);
          }
          if (scaledOut && (await webPods()).some(p => p.ready && !before.has(p.name))) newReady = seconds();
          await sleep(1000);
        }
        // The light load of the scale-in starts before the flood ends: the whole scale-in is under requests.
        lightLoad = await startLoad(SCALE_IN_LIMIT_S + 60);
      } finally {
        flood.stop();
        floodStoppedAt = Date.now();
      }
      const result = await flood.done;
      progress(`  flood: requests=${result.requests} failed=${result.failed}`);
      // Reported, not asserted (a flood past what the tier can take may time a request out): what failed, and when.
      for (const line of result.output.split('\n').filter(l => /^\d{4}-\d\d-\d\dT/.test(l)).slice(0, 6)) progress(`    | ${line.slice(0, 200)}`);
      check(`the autoscaler scaled the web tier out beyond three replicas (to ${peakReplicas}, after ${scaledOut.toFixed(0)}s; CPU peaked at ${peakCpu}% of the request, the drill's target ${DRILL_CPU_TARGET_PERCENT}%)`, scaledOut > 0);
      check(`a new web replica Ready (after ${newReady.toFixed(0)}s of flood)`, newReady > 0);
      check(`the flood's summary read (requests=${result.requests} failed=${result.failed})`, result.requests > 0, result.output.slice(0, 2000));
      timing('flood to the autoscaler\'s first scale-out', scaledOut);
      timing('flood to the first new replica Ready', newReady);
      timings.push(`scale-out: replicas 3 -> ${peakReplicas}, CPU peak ${peakCpu}% of the request; flood requests=${result.requests} failed=${result.failed}`);
    }],
    [`scale-in: the flood over, the web tier back to three replicas (after the drill's ${SCALE_DOWN_STABILIZATION_S} s scale-down window) under a light load (one request at a time); zero failed requests`, async () => {
      const hpa = await autoscaler();
      equal('the autoscaler\'s scale-down window is the drill\'s', hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds, SCALE_DOWN_STABILIZATION_S);
      const seconds = () => (Date.now() - floodStoppedAt) / 1000;
      let decided = 0;
      let settled = 0;
      while (seconds() < SCALE_IN_LIMIT_S && !settled) {
        const replicas = (await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.replicas;
        peakReplicas = Math.max(peakReplicas, replicas);
        if (!decided && replicas === 3) {
          decided = seconds();
          progress(`  the autoscaler scaled in to 3 after ${decided.toFixed(0)}s`);
        }
        if (decided && await allWebPodCount() === 3 && (await webPods()).every(p => p.ready)) settled = seconds();
        await sleep(2000);
      }
      // A few more seconds of requests after the last pod is gone: kube-proxy's rules may trail it.
      await sleep(10_000);
      lightLoad!.stop();
      const result = await lightLoad!.done;
      progress(`  light load: requests=${result.requests} failed=${result.failed}`);
      check(`the web tier back to three replicas, three pods Ready (scale-in after ${decided.toFixed(0)}s, the surplus pods gone after ${settled.toFixed(0)}s)`, decided > 0 && settled > 0);
      check(`not before the stabilization window: ${decided.toFixed(0)}s >= ${SCALE_DOWN_STABILIZATION_S} - ${HPA_SYNC_PERIOD_S} s`, decided >= SCALE_DOWN_STABILIZATION_S - HPA_SYNC_PERIOD_S);
      check(`zero failed requests during the scale-in (requests=${result.requests} failed=${result.failed})`, result.failed === 0 && result.requests > 0, result.output.slice(0, 2000));
      timing('flood\'s end to the autoscaler\'s scale-in to three', decided);
      timing('flood\'s end to three web pods', settled);
      timings.push(`scale-in: from ${peakReplicas} replicas at most; light load requests=${result.requests} failed=${result.failed}`);
      await kube.run(['-n', clientNs, 'delete', 'pod', FLOOD_CLIENT, '--wait=false'], { allowFail: true });
    }],
  ]);
  // A scale-in step that failed early leaves the light load running: stop it.
  lightLoad?.stop();
  // prod's target as the tree has it again, and no scale-up while a node is lost: the node drills
  // measure the Deployment's own replacement. Under the suites beside it, the autoscaler once scaled
  // out to seven during the node loss, more than the two nodes left could place (two pods Pending).
  const held = await kube.run(['-n', ns, 'patch', 'horizontalpodautoscaler', 'todo', '--type=json', '-p', JSON.stringify([
    { op: 'replace', path: CPU_TARGET_PATH, value: committedAutoscaling.targetCpuUtilization },
    { op: 'replace', path: '/spec/behavior', value: { scaleUp: { selectPolicy: 'Disabled' } } },
  ])], { allowFail: true });
  check(`prod's autoscaler at its ${committedAutoscaling.targetCpuUtilization}% target again, its scale-up held for the node drills (selectPolicy Disabled)`,
    held.code === 0, held.stderr);

  let lost = '';
  let lostPod = '';
  let returned = false;
  await section([
    [`node loss: every process of a worker running a web replica killed at once under requests (until ${LOSS_STEADY_S}s after a replacement is Ready, at most ${LOSS_LOAD_S}s); failed requests, time to leave the endpoints, time to a replacement`, async () => {
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
          const slices = (await kube.json(['-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=todo'])).items as K8sObject[];
          const serving = slices.flatMap(s => s.endpoints ?? []).filter((e: any) => e.conditions?.ready !== false).flatMap((e: any) => e.addresses);
          if (!serving.includes(victim.ip)) leftEndpoints = seconds();
        }
        if (!replaced) {
          // As many Ready elsewhere as the Deployment wants (three: the autoscaler's scale-up is held).
          const wanted = (await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.replicas;
          if ((await webPods()).filter(p => p.node !== lost && p.ready).length >= wanted) replaced = seconds();
        }
        await sleep(1000);
      }
      if (replaced) {
        await sleep(LOSS_STEADY_S * 1000);
        load.stop();
      }
      const result = await load.done;
      progress(`  client: requests=${result.requests} failed=${result.failed}`);
      // The kubelet renews its lease every 10 s and the controller looks every 5 s: NotReady comes 20-35 s
      // after the kill with the cluster's 30 s (measured 24-31), 40-55 s with Kubernetes' default 50 s.
      check(`the node controller marked ${lost} NotReady after ${notReady.toFixed(0)}s, within its grace period (${NODE_MONITOR_GRACE_S} s) and 15 s`,
        notReady > 0 && notReady <= NODE_MONITOR_GRACE_S + 15);
      check(`the lost pod left the Service's ready endpoints (after ${leftEndpoints.toFixed(0)}s)`, leftEndpoints > 0);
      const wanted = (await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.replicas;
      check(replaced ? `the Deployment's replicas Ready on the other nodes (after ${replaced.toFixed(0)}s)` : `the Deployment's ${wanted} replicas Ready on the other nodes within ${LOSS_LOAD_S}s`,
        replaced > 0, JSON.stringify(await webPods()));
      timing('node loss to NotReady', notReady);
      timing('node loss to the lost pod out of the endpoints', leftEndpoints);
      timing('node loss to three web replicas Ready elsewhere', replaced);
      timings.push(`node loss: requests=${result.requests} failed=${result.failed}`);
      // Requests kube-proxy sends to the lost pod fail until the pod leaves the endpoints: the node
      // controller's grace period, not the construct, sets that window, and most failures must fall in it.
      // A few stragglers after it (two to five per run so far, not yet explained) are reported by time,
      // at most MAX_STRAGGLERS. (Not a share of the requests: each failure takes about 3 s, "no route
      // to host", so how many requests a run sends depends on the machine's load: 2,136 or 415.)
      const failedAt = result.output.split('\n').map(l => /^(\d{4}-\d\d-\d\dT[^ ]+Z): /.exec(l)?.[1]).filter((t): t is string => !!t).map(t => Date.parse(t));
      const windowEnd = started + (leftEndpoints + 5) * 1000;
      const outside = failedAt.filter(t => t < started - 1000 || t > windowEnd).map(t => `+${((t - started) / 1000).toFixed(1)}s`);
      timings.push(`node loss: failed requests after the lost pod left the endpoints: ${outside.length ? outside.join(', ') : 'none'}`);
      check(`${result.failed} of ${result.requests} requests failed, ${failedAt.length - outside.length} of them while the lost pod was still an endpoint`
        + `${outside.length ? `, ${outside.length} after it (${outside.join(', ')})` : ''}`,
      failedAt.length === Math.min(result.failed, 100) && outside.length < failedAt.length / 2 && outside.length <= MAX_STRAGGLERS,
      result.output);
    }],
    ['the node returns: it rejoins Ready; the lost pod is gone and nothing is duplicated (the web pods the Deployment wants, three database instances, the primary unchanged)', async () => {
      const started = Date.now();
      const start = await cluster.command(['start-node', lost]);
      returned = start.code === 0;
      check(`${lost} started again`, start.code === 0, start.stderr);
      await waitFor(`${lost} Ready`, 180_000, async () => {
        const node = await kube.json(['get', 'node', lost]);
        return (node.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      }, 1000);
      timing('node back to Ready', (Date.now() - started) / 1000);
      await waitFor(`pod ${lostPod} gone`, 120_000, async () => (await kube.run(['-n', ns, 'get', 'pod', lostPod], { allowFail: true })).code !== 0, 1000);
      const pods = await webPods();
      const wanted = (await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.replicas;
      equal(`as many web pods as the Deployment wants (${wanted}: three, or more if the autoscaler scaled out under the load), all Ready`,
        [pods.length, pods.every(p => p.ready)], [wanted, true]);
      await databaseHealthy(300);
      const db = await databaseInstances();
      const { primary } = await databaseStatus();
      equal('three database instances on three nodes, the primary still on the first',
        [db.length, new Set(db.map(p => p.node)).size, db.find(p => p.name === primary)?.node], [3, 3, cluster.nodes[0]]);
    }],
  ]);
  // A node loss that failed a check skipped the return: the suite's next drills need every node.
  if (lost && !returned) await cluster.command(['start-node', lost]);
  // prod's autoscaler as the tree has it: Argo CD takes prod over after the drills.
  const restored = await kube.run(['-n', ns, 'patch', 'horizontalpodautoscaler', 'todo', '--type=json', '-p',
    JSON.stringify([{ op: 'remove', path: '/spec/behavior' }])], { allowFail: true });
  check('prod\'s autoscaler as the tree has it again (the drills\' behavior removed)', restored.code === 0, restored.stderr);
}
