/**
 * The CloudNativePG operator for the end-to-end suites whose control plane has no node that runs
 * pods (test/e2e/cluster.ts, test/e2e/tanka.ts, test/e2e/argocd.ts, test/e2e/fleet.ts).
 *
 * The tree's platform part installs the operator's MutatingWebhookConfiguration and
 * ValidatingWebhookConfiguration with failurePolicy Fail: the API server refuses every `Cluster`
 * (and Backup, ScheduledBackup, ...) it cannot have the operator default and validate. So the real
 * operator (the `manager` binary test/tools/install.sh cloudnative-pg builds, v1.30.0, the version
 * of the platform part) runs here as a process in the control plane's network namespace, with its
 * own ServiceAccount's token where in-cluster clients find it, and the arguments and environment of
 * the platform's Deployment: it generates its webhook certificate, patches the caBundle of both
 * configurations as in a real cluster, and serves the webhooks. The API server reaches a webhook Service through its
 * endpoints (--enable-aggregator-routing of the cluster program): an EndpointSlice names the
 * namespace's own address, and the addresses kwok gives the operator's pretend pods are routed to
 * the namespace itself, so whichever endpoint the API server picks, the real operator answers.
 *
 * Deviation from the platform's Deployment, on purpose: WATCH_NAMESPACE is the operator's own
 * namespace. Without nodes no instance could ever run, so the operator only serves its webhooks
 * and reconciles no database; a suite that needs a `Cluster` to look healthy writes its status
 * itself ({@link writeHealthyClusterStatus}), as a named check. Real health is
 * test/e2e/cloudnative-pg.ts's part, on real nodes.
 *
 * Everything started here registers its own cleanup with the harness.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { K8sObject, KWOK_POD_CIDR, Kubectl } from './cluster-support';
import { check, equal, onCleanup, run, stopProcess, waitFor } from './harness';
import { BARMAN_DEPRECATION } from './object-store-support';
import { CLOUDNATIVE_PG_NAMESPACE, CLOUDNATIVE_PG_OPERATOR } from '../../src/postgres/cloudnative-pg-operator';
import { readLayout } from '../tools/cluster/layout';

/** The operator's webhook configurations, as the platform part names them (upstream's names). */
const WEBHOOK_CONFIGURATIONS = ['mutatingwebhookconfiguration/cnpg-mutating-webhook-configuration', 'validatingwebhookconfiguration/cnpg-validating-webhook-configuration'];
/** {@link BARMAN_DEPRECATION} if a Cluster of `objects` backs up with Barman Cloud (kubectl then prints it), else undefined. */
export function expectedClusterWarning(objects: K8sObject[]): RegExp | undefined {
  const barman = objects.some(o => o.kind === 'Cluster' && o.apiVersion?.startsWith('postgresql.cnpg.io/') && o.spec?.backup?.barmanObjectStore);
  return barman ? BARMAN_DEPRECATION : undefined;
}

/** The phase CloudNativePG reports for a cluster whose instances are all ready (what Argo CD's health check reads). */
export const CLUSTER_HEALTHY_PHASE = 'Cluster in healthy state';
/** The phaseReason of a status the test wrote, so that a check can tell it from the operator's. */
export const FAKED_STATUS_REASON = 'written by the end-to-end test: no node runs Postgres here';

/** The real operator started by {@link startHostCloudNativePg}. */
export interface HostOperator {
  /** The operator's log file. */
  readonly log: string;
  /** The last lines of its log, for failure messages. */
  logTail(): string;
}

/** The container's environment of a Deployment as a process gets it: values, and the namespace for a fieldRef to it. */
function containerEnvironment(container: K8sObject, namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace;
    else throw new Error(`${CLOUDNATIVE_PG_OPERATOR}: environment variable ${e.name} comes from ${JSON.stringify(e.valueFrom)}, which a process here lacks`);
  }
  return env;
}

/** A Secret volume of a pod, as a directory of this test that a process sees at `mountPath`. */
interface SecretVolume {
  readonly secretName: string;
  readonly mountPath: string;
  readonly dir: string;
}

/**
 * The Secret volumes `container` of `podSpec` mounts, each with a directory below `root`. Only
 * below /run, where the operator's process has a tmpfs of its own: a mount point elsewhere would
 * be made on this machine. (Its other volume, an emptyDir at /controller, it does not use to
 * serve webhooks.)
 */
function secretVolumes(podSpec: K8sObject, container: K8sObject, root: string): SecretVolume[] {
  return (container.volumeMounts ?? []).flatMap((m: any) => {
    const secretName = (podSpec.volumes ?? []).find((v: any) => v.name === m.name)?.secret?.secretName;
    if (!secretName) return [];
    if (!m.mountPath.startsWith('/run/')) throw new Error(`${CLOUDNATIVE_PG_OPERATOR}: Secret volume ${m.name} is mounted at ${m.mountPath}, outside /run`);
    const dir = path.join(root, m.name);
    fs.mkdirSync(dir, { recursive: true });
    return [{ secretName, mountPath: m.mountPath, dir }];
  });
}

/** What the kubelet does for a Secret volume: its files are the Secret's data, once the Secret exists. */
async function syncSecretVolume(kube: Kubectl, ns: string, volume: SecretVolume): Promise<void> {
  const r = await kube.run(['-n', ns, 'get', 'secret', volume.secretName, '-o', 'json'], { allowFail: true });
  if (r.code !== 0) return;
  for (const [key, value] of Object.entries(JSON.parse(r.stdout).data ?? {})) {
    const file = path.join(volume.dir, key);
    const content = Buffer.from(String(value), 'base64');
    if (!fs.existsSync(file) || !fs.readFileSync(file).equals(content)) fs.writeFileSync(file, content, { mode: 0o600 });
  }
}

/**
 * Starts the real CloudNativePG operator for the control plane of the cluster program in
 * `planeDir` (whose platform part, dist/platform, must be applied: CRDs, RBAC, webhook
 * configurations, Service and Deployment), as described at the top of this module; logs in
 * `<tmp>/<name>/`. Returns once the API server has the operator default a `Cluster` and refuse an
 * invalid one in server-side dry runs; stopped by a cleanup.
 */
export async function startHostCloudNativePg(
  tmp: string, name: string, planeDir: string, kube: Kubectl, toolEnv: NodeJS.ProcessEnv,
): Promise<HostOperator> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const ns = CLOUDNATIVE_PG_NAMESPACE;
  const deployment = await kube.json(['-n', ns, 'get', 'deployment', CLOUDNATIVE_PG_OPERATOR]);
  const container = deployment.spec.template.spec.containers[0];
  const account: string = deployment.spec.template.spec.serviceAccountName;

  // The operator's own ServiceAccount (its RBAC in the platform part must be enough), where in-cluster
  // clients look for it; leader election takes its namespace from there too.
  const token = (await kube.run(['-n', ns, 'create', 'token', account, '--duration=6h'])).stdout.trim();
  const cluster = YAML.parse(fs.readFileSync(kube.env.KUBECONFIG!, 'utf-8')).clusters[0].cluster;
  const server = new URL(cluster.server);
  const accountDir = path.join(dir, 'serviceaccount');
  fs.mkdirSync(accountDir);
  fs.writeFileSync(path.join(accountDir, 'token'), token, { mode: 0o600 });
  fs.writeFileSync(path.join(accountDir, 'ca.crt'), Buffer.from(cluster['certificate-authority-data'], 'base64'));
  fs.writeFileSync(path.join(accountDir, 'namespace'), ns);

  // Where the API server finds the webhook: the Service the configurations name, its target port.
  const webhook = (await kube.json(['get', WEBHOOK_CONFIGURATIONS[0]])).webhooks[0].clientConfig.service;
  const service = await kube.json(['-n', webhook.namespace, 'get', 'service', webhook.name]);
  const servicePort = service.spec.ports.find((p: any) => p.port === (webhook.port ?? 443));
  const targetPort = Number(servicePort.targetPort);
  const webhookPort = /^--webhook-port=(\d+)$/.exec((container.args as string[]).find(a => a.startsWith('--webhook-port=')) ?? '')?.[1];
  equal(`${name}: the operator's --webhook-port is the target port of Service ${webhook.name}`, Number(webhookPort), targetPort);

  const layout = readLayout(planeDir);
  const inNetns = (args: string[]) => run('ip', ['netns', 'exec', layout.netns, ...args], { allowFail: true });
  // kwok's pods have made-up addresses: in the control plane's namespace they are its own, so an
  // endpoint of a pretend operator pod leads to the real one.
  const routed = await inNetns(['ip', 'route', 'add', 'local', KWOK_POD_CIDR, 'dev', 'lo']);
  check(`${name}: kwok's pod addresses (${KWOK_POD_CIDR}) are local to the control plane's network namespace ${layout.netns}`, routed.code === 0, routed.stderr);
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${webhook.name}-host`,
      namespace: webhook.namespace,
      labels: { 'kubernetes.io/service-name': webhook.name, 'endpointslice.kubernetes.io/managed-by': 'e2e' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [layout.apiIp], conditions: { ready: true } }],
    ports: [{ name: servicePort.name ?? '', port: targetPort, protocol: 'TCP' }],
  };
  const sliced = await kube.apply(YAML.stringify(slice), 'e2e');
  check(`${name}: EndpointSlice ${slice.metadata.name} for Service ${webhook.namespace}/${webhook.name}: ${layout.apiIp}:${targetPort}, where the operator listens`, sliced.code === 0, sliced.stderr);

  // A private mount namespace with a tmpfs over /run: the ServiceAccount goes there, and the
  // Deployment's Secret volumes (the webhook certificate the operator makes, then waits to see
  // mounted), each a directory of this test bound at its mountPath, kept in sync as the kubelet does.
  const volumes = secretVolumes(deployment.spec.template.spec, container, path.join(dir, 'volumes'));
  const env: NodeJS.ProcessEnv = {
    ...toolEnv,
    ...containerEnvironment(container, ns),
    WATCH_NAMESPACE: ns,
    KUBERNETES_SERVICE_HOST: server.hostname,
    KUBERNETES_SERVICE_PORT: server.port || '443',
  };
  // In-cluster: no kubeconfig of this machine's.
  delete env.KUBECONFIG;
  const script = [
    'mount -t tmpfs tmpfs /run',
    `mkdir -p /run/secrets/kubernetes.io && cp -r ${accountDir} /run/secrets/kubernetes.io/serviceaccount`,
    ...volumes.map(v => `mkdir -p ${v.mountPath} && mount --bind ${v.dir} ${v.mountPath}`),
    'exec manager "$@"',
  ].join(' && ');
  const log = path.join(dir, 'operator.log');
  const out = fs.openSync(log, 'a');
  const child = spawn('ip', ['netns', 'exec', layout.netns, 'unshare', '--mount', '--propagation', 'private',
    'bash', '-c', script, 'manager', ...container.args], { cwd: dir, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  onCleanup(`stop the CloudNativePG operator of ${name}`, async () => { await stopProcess(child, 10_000); });
  const logTail = () => fs.readFileSync(log, 'utf-8').trim().split('\n').slice(-12).join('\n');

  // What a user's apply meets: the mutating webhook defaults a Cluster, the validating one refuses a bad one.
  const probe = (probeName: string) => JSON.stringify({
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: probeName, namespace: ns },
    spec: { instances: 1, storage: { size: '1Gi' } },
  });
  let defaulted: any;
  let last = '';
  try {
    await waitFor(`${name}: the API server to have the operator default a Cluster (server-side dry run)`, 120_000, async () => {
      // (waitFor takes a probe's error for "not yet": an exit is judged below.)
      if (child.exitCode !== null) return true;
      for (const v of volumes) await syncSecretVolume(kube, ns, v);
      const r = await kube.run(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: probe('e2e-webhook-probe'), allowFail: true });
      last = r.stderr.trim();
      if (r.code === 0) defaulted = JSON.parse(r.stdout);
      return r.code === 0;
    }, 1000);
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${last}\noperator log:\n${logTail()}`);
  }
  if (child.exitCode !== null) {
    // Its certificate watcher needs an inotify instance: a per-user limit of the whole machine, which
    // clusters running beside this suite (each kubelet, API server, controller manager) use up.
    const inotify = /too many open files/.test(logTail())
      ? ` (inotify instances of this machine used up: fs.inotify.max_user_instances is ${fs.readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf-8').trim()})`
      : '';
    throw new Error(`${name}: the operator exited ${child.exitCode}${inotify}:\n${logTail()}`);
  }
  for (const configuration of WEBHOOK_CONFIGURATIONS) {
    const hooks = (await kube.json(['get', configuration])).webhooks as any[];
    check(`${name}: the operator wrote the caBundle of its ${hooks.length} webhooks in ${configuration}`, hooks.every(h => !!h.clientConfig.caBundle));
  }
  check(`${name}: the API server reaches the operator's mutating webhook: a dry-run Cluster comes back defaulted (imageName ${defaulted?.spec?.imageName})`,
    !!defaulted?.spec?.imageName && defaulted?.spec?.postgresUID !== undefined, JSON.stringify(defaulted?.spec));
  const refused = await kube.run(['create', '--dry-run=server', '-f', '-'], { input: probe(`e2e-${'x'.repeat(50)}`), allowFail: true });
  check(`${name}: and its validating webhook: a Cluster with a 54-character name is refused (${refused.stderr.trim().split('\n')[0]})`,
    refused.code !== 0 && /maximum length of a cluster name is 50 characters/.test(refused.stderr), refused.stderr || refused.stdout);
  return { log, logTail };
}

/**
 * Writes, through the status subresource, the status CloudNativePG reports for a healthy
 * cluster (phase {@link CLUSTER_HEALTHY_PHASE}, every instance ready, condition Ready) to every
 * `Cluster` of `ns` that lacks it, marked with {@link FAKED_STATUS_REASON}; returns their names.
 * For the suites whose control plane runs no Postgres and which need Argo CD to get past the
 * database's sync wave; each says so in a check of its own.
 */
export async function writeHealthyClusterStatus(kube: Kubectl, ns: string): Promise<string[]> {
  const list = await kube.run(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', '-o', 'json'], { allowFail: true });
  if (list.code !== 0) return [];
  const written: string[] = [];
  for (const cluster of JSON.parse(list.stdout).items as K8sObject[]) {
    if (cluster.status?.phase === CLUSTER_HEALTHY_PHASE) continue;
    const instances: number = cluster.spec.instances;
    const names = Array.from({ length: instances }, (_, i) => `${cluster.metadata.name}-${i + 1}`);
    const status = {
      phase: CLUSTER_HEALTHY_PHASE,
      phaseReason: FAKED_STATUS_REASON,
      instances,
      readyInstances: instances,
      currentPrimary: names[0],
      targetPrimary: names[0],
      instanceNames: names,
      conditions: [{ type: 'Ready', status: 'True', reason: 'ClusterIsReady', message: 'Cluster is Ready', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    };
    const r = await kube.run(['-n', ns, 'patch', 'clusters.postgresql.cnpg.io', cluster.metadata.name, '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status })], { allowFail: true });
    if (r.code === 0) written.push(cluster.metadata.name);
  }
  return written;
}

/**
 * The named exception of the suites that fake a `Cluster`'s health: checks that every `Cluster`
 * in `ns` carries the status the test wrote and nothing the operator did (it watches only its
 * own namespace: no instance pod, no Job), so that a healthy-looking database here is never
 * mistaken for a real one. Returns the Clusters' names.
 */
export async function checkFakedClusterHealth(kube: Kubectl, ns: string, where: string): Promise<string[]> {
  const clusters = (await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io'])).items as K8sObject[];
  const pods = (await kube.json(['-n', ns, 'get', 'pods', '-l', 'cnpg.io/cluster'])).items as K8sObject[];
  for (const c of clusters) {
    check(`FAKED on purpose (${where}): Cluster ${ns}/${c.metadata.name}'s status "${c.status?.phase}", ${c.status?.readyInstances}/${c.spec.instances} ready, `
      + 'was written by this test, not by CloudNativePG: no node here runs Postgres; real health is test/e2e/cloudnative-pg.ts\'s part',
    c.status?.phase === CLUSTER_HEALTHY_PHASE && c.status?.phaseReason === FAKED_STATUS_REASON && c.status?.readyInstances === c.spec.instances,
    JSON.stringify(c.status));
  }
  equal(`${where}: the operator made no pod for a Cluster in ${ns} (it only serves its webhooks)`, pods.map(p => p.metadata.name), []);
  return clusters.map(c => c.metadata.name);
}
