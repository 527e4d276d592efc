/**
 * A real cluster for end-to-end suites whose pods must really run: the
 * cluster program of test/tools/cluster/ (Kubernetes v1.37.2: a control plane
 * and N worker nodes, each with containerd, kubelet, kube-proxy and
 * kube-router, plus CoreDNS and a local registry, all in network namespaces
 * of their own; needs root). The kwok based helpers of cluster-support.ts
 * stay for the suites that only need an API server.
 *
 *   const toolEnv = await installTools(CLUSTER_TOOLS);
 *   const cluster = await startNodesCluster(path.join(tmp, 'cluster'), toolEnv);   // one node
 *   // cluster.env has KUBECONFIG; images go to cluster.registry (plain HTTP, pulled by the nodes)
 *   await nodeVolumes(cluster, 'todo-dev', objects);  // PVs bound to the stack's claims, on the first node
 *   await volumesOnEveryNode(cluster, 'spare', '25Gi');  // unbound PVs, for a CloudNativePG Cluster's instances
 *   await waitClusterHealthy(kube, 'todo-staging', 'todo-db', 2, 300);  // its instances, one primary
 *
 * Everything started here registers its own cleanup with the harness.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLUSTER_PROGRAM, K8sObject, Kubectl, labelSelector, persistentVolumes } from './cluster-support';
import { ROOT, RunResult, check, equal, inBackground, onCleanup, progress, run, stopProcess, waitFor } from './harness';
import { makeBaseImage } from './registry-support';
import { ImageLock, ImageLockDocument } from '../../src';

/** test/tools/images/build.sh: images built here (cached) and pushed to a registry. */
export const IMAGES_SH = path.join(ROOT, 'test', 'tools', 'images', 'build.sh');

/**
 * Builds (cached) and pushes Postgres, postgres_exporter, the Sealed Secrets
 * controller and the CloudNativePG operator (the platform part's two
 * controllers), its Postgres image and the Barman Cloud plugin's to `registry`, and returns `lock` with
 * the upstream images replaced by those digests: the lock a CI job would hold.
 */
export async function withLocalImages(lock: ImageLockDocument, registry: string, env: NodeJS.ProcessEnv): Promise<ImageLockDocument> {
  const refs = (await run('bash', [IMAGES_SH, 'postgres', 'postgres-exporter', 'sealed-secrets-controller', 'cloudnative-pg', 'cloudnative-pg-postgresql',
    BARMAN_CLOUD_PLUGIN_IMAGE, registry], { env, echo: '    | ' })).stdout.trim().split('\n');
  equal('build.sh printed six references by digest', refs.map(r => /@sha256:[0-9a-f]{64}$/.test(r)), [true, true, true, true, true, true]);
  const [postgres, exporter, controller, operator, clusterPostgres, plugin] = refs.map(r => r.split('@'));
  const images = { ...lock.images };
  images.postgres = { ...images.postgres, repository: postgres[0], digest: postgres[1], builder: 'upstream' };
  images['postgres-exporter'] = { ...images['postgres-exporter'], repository: exporter[0], digest: exporter[1], builder: 'upstream' };
  images['sealed-secrets-controller'] = { ...images['sealed-secrets-controller'], repository: controller[0], digest: controller[1] };
  images['cloudnative-pg'] = { ...images['cloudnative-pg'], repository: operator[0], digest: operator[1] };
  images[CLUSTER_POSTGRES_IMAGE] = { ...images[CLUSTER_POSTGRES_IMAGE], repository: clusterPostgres[0], digest: clusterPostgres[1] };
  images[BARMAN_CLOUD_PLUGIN_IMAGE] = { ...images[BARMAN_CLOUD_PLUGIN_IMAGE], repository: plugin[0], digest: plugin[1] };
  return { ...lock, images };
}

/** Where {@link buildTodoImage} writes. */
export interface TodoImageOptions {
  /** The lock to pin the image in (its other images already pushed to the cluster's registry). */
  readonly lock: string;
  /** The tree's directory (dist/). */
  readonly outdir: string;
  /** The Helm chart's directory. */
  readonly helmDir: string;
  /** The base image ko builds on ({@link makeBaseImage}). */
  readonly baseImage: string;
  /**
   * The sealed files the synth reads (SEALED_SECRETS_DIR).
   * @default - the committed ones
   */
  readonly sealedDir?: string;
}

/**
 * `npm run build:image -- --builder ko`: the todo service built on
 * `baseImage`, pushed to the cluster's registry, pinned in the lock, and the
 * tree synthesized with it.
 */
export async function buildTodoImage(cluster: Pick<NodesCluster, 'registry'>, toolEnv: NodeJS.ProcessEnv, options: TodoImageOptions): Promise<void> {
  const r = await run('npm', ['run', '--silent', 'build:image', '--', '--builder', 'ko', '--repository', `${cluster.registry}/acme/todo`, '--insecure',
    '--lock', options.lock, '--outdir', options.outdir, '--helm-dir', options.helmDir],
  { env: { ...toolEnv, KO_DEFAULTBASEIMAGE: options.baseImage, ...(options.sealedDir ? { SEALED_SECRETS_DIR: options.sealedDir } : {}) }, allowFail: true, echo: '    | ' });
  const built = check(`npm run build:image -- --builder ko --insecure: the todo image pushed, the tree synthesized with the local lock${options.sealedDir ? ' and the sealed files' : ''}`,
    r.code === 0, r.stderr.slice(-1500));
  if (!built) throw new Error('image build failed');
}

/**
 * The tree a CI job would hold for `cluster`: Postgres, its exporter and the
 * controller built by build.sh ({@link withLocalImages}), the todo service
 * by {@link buildTodoImage} on a base image made here in `tmp`, the lock
 * written and the tree synthesized with every image pinned by digest in the
 * cluster's registry. Returns the base image (for further ko builds).
 */
export async function buildLocalTodoTree(cluster: Pick<NodesCluster, 'registry'>, toolEnv: NodeJS.ProcessEnv, tmp: string, options: Omit<TodoImageOptions, 'baseImage'>): Promise<string> {
  const lock: ImageLockDocument = JSON.parse(fs.readFileSync(path.join(ROOT, 'images.lock.json'), 'utf-8'));
  fs.mkdirSync(path.dirname(options.lock), { recursive: true });
  ImageLock.write(options.lock, await withLocalImages(lock, cluster.registry, toolEnv));
  const baseImage = await makeBaseImage(tmp, cluster.registry, toolEnv);
  await buildTodoImage(cluster, toolEnv, { ...options, baseImage });
  return baseImage;
}

/**
 * Starts `kubectl port-forward` to `target` (e.g. `pod/todo-abc`) in `ns` on
 * a free local port forwarded to `remotePort`, runs `use` with that port, and stops the forward.
 */
export async function withPortForward<T>(kube: Kubectl, ns: string, target: string, remotePort: number,
  use: (port: number) => Promise<T>): Promise<T> {
  const forward = spawn('kubectl', ['-n', ns, 'port-forward', target, `:${remotePort}`], { env: kube.env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      forward.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      forward.on('exit', code => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
      setTimeout(() => reject(new Error(`kubectl port-forward printed no port in 20 s: ${out}`)), 20_000);
    });
    return await use(port);
  } finally {
    await stopProcess(forward, 5_000);
  }
}

/** A cluster of the cluster program: a control plane and worker nodes of the current Kubernetes. */
export interface NodesCluster {
  /** The cluster's directory (`up DIR`). */
  readonly dir: string;
  /** The tool environment with KUBECONFIG and CLUSTER_REGISTRY. */
  readonly env: NodeJS.ProcessEnv;
  /** host:port of the registry the nodes pull from over plain HTTP; pushed to from here. */
  readonly registry: string;
  /** The host's address as pods reach it (the host end of the cluster's veth pair), for servers a test runs. */
  readonly hostIp: string;
  /** The worker nodes, in order: kc-<id>-1 in zone-a, kc-<id>-2 in zone-b, ... */
  readonly nodes: string[];
  readonly kube: Kubectl;
  /** Runs one of the program's commands on this cluster (`pv`, `exec`, `stop-node`, `start-node`, `down`). */
  command(args: string[]): Promise<RunResult>;
}

/**
 * Local PersistentVolumes on `node` (the program's `pv`; default the first
 * node) pre-bound to every claim of a stack deployed to `ns`, as
 * cluster-support.ts persistentVolumes() enumerates them; the pods that use
 * them are pinned to that node. Returns the volumes' names.
 */
export async function nodeVolumes(cluster: NodesCluster, ns: string, objects: K8sObject[], node = cluster.nodes[0]): Promise<string[]> {
  const names: string[] = [];
  for (const pv of persistentVolumes(ns, objects)) {
    const r = await cluster.command(['pv', pv.metadata.name, pv.spec.capacity.storage, `${ns}/${pv.spec.claimRef.name}`, '--node', node]);
    if (!check(`local PersistentVolume ${pv.metadata.name} on ${node}`, r.code === 0, r.stderr)) throw new Error(`PersistentVolume ${pv.metadata.name} not created`);
    names.push(pv.metadata.name);
  }
  return names;
}

/**
 * Brings up a cluster of `nodes` worker nodes (one unless a suite needs
 * more: each node is a containerd, kubelet, kube-proxy and kube-router more
 * on a 2-core machine) in `dir`; torn down by a cleanup, also when `up` fails.
 */
export async function startNodesCluster(dir: string, toolEnv: NodeJS.ProcessEnv, nodes = 1): Promise<NodesCluster> {
  const program = (args: string[], allowFail = false) => run(process.execPath, [...CLUSTER_PROGRAM, ...args], { env: toolEnv, allowFail, echo: '    | ' });
  onCleanup('tear down the cluster', async () => {
    const r = await program(['down', dir], true);
    if (r.code !== 0) progress(`  cluster down exited ${r.code}`);
  });
  const r = await program(['up', dir, '--nodes', String(nodes)]);
  const value = (name: string) => new RegExp(`^export ${name}=(\\S+)$`, 'm').exec(r.stdout)?.[1];
  const [kubeconfig, registry, hostIp, names] = [value('KUBECONFIG'), value('CLUSTER_REGISTRY'), value('CLUSTER_HOST_IP'), value('CLUSTER_NODES')?.split(',')];
  if (!kubeconfig || !registry || !hostIp || !names) throw new Error(`cluster up printed no KUBECONFIG/CLUSTER_REGISTRY/CLUSTER_HOST_IP/CLUSTER_NODES lines: ${r.stdout}`);
  const env: NodeJS.ProcessEnv = { ...toolEnv, KUBECONFIG: kubeconfig, CLUSTER_REGISTRY: registry };
  // The suites read `kubectl diff`'s own output, not a user's diff program's.
  delete env.KUBECTL_EXTERNAL_DIFF;
  const kube = new Kubectl(env);
  return { dir, env, registry, hostIp, nodes: names, kube, command: args => program([args[0], dir, ...args.slice(1)], true) };
}

/**
 * One unbound local PersistentVolume of `size` on every node, `<prefix>-<node>` (the program's `pv
 * --per-node`), for claims the scheduler places (class "local" binds on the pod's node): a
 * CloudNativePG Cluster's instances, one per node by their required anti-affinity. Returns their names.
 */
export async function volumesOnEveryNode(cluster: NodesCluster, prefix: string, size: string): Promise<string[]> {
  const r = await cluster.command(['pv', prefix, size, '--per-node']);
  const names = cluster.nodes.map(n => `${prefix}-${n}`);
  if (!check(`unbound local PersistentVolumes ${names.join(', ')} (${size}, one per node)`, r.code === 0, r.stderr)) throw new Error(`PersistentVolumes ${prefix}-* not created`);
  return names;
}

/** The lock's entry of the Postgres image CloudNativePG's instances run. */
export const CLUSTER_POSTGRES_IMAGE = 'cloudnative-pg-postgresql';
/** The Barman Cloud plugin's image, beside the operator and in every instance that backs up with it: its name in the lock and for build.sh. */
export const BARMAN_CLOUD_PLUGIN_IMAGE = 'plugin-barman-cloud';

/** What {@link prepullClusterPostgres} returns before anything was pulled: it throws. */
export const NOT_PULLED = () => Promise.reject<number>(new Error('the Postgres image was not pulled'));

/**
 * Has every node's kubelet pull the lock's CloudNativePG Postgres image now, as image-puller
 * DaemonSets do: a pod on each node (namespace `default`, restricted, `true` as its command) that
 * exits at once, deleted when done. CloudNativePG creates a Cluster's instances one after another,
 * each pulling that image (7-10 s here) on its node before it starts; started while the suite does
 * other work, the pulls overlap it instead. Returns what {@link inBackground} does: await it before
 * the Cluster is applied, for the seconds the pulls took or their error.
 */
export function prepullClusterPostgres(cluster: NodesCluster, lock: ImageLockDocument): () => Promise<number> {
  const postgres = lock.images[CLUSTER_POSTGRES_IMAGE];
  return inBackground(pullOnEveryNode(cluster, `${postgres.repository}@${postgres.digest}`));
}

/** Pulls `image` on every node (see prepullClusterPostgres); the seconds it took. */
async function pullOnEveryNode(cluster: NodesCluster, image: string): Promise<number> {
  const started = Date.now();
  const selector = 'e2e.acme.io/prepull=true';
  const pods = cluster.nodes.map(node => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `prepull-${node}`, namespace: 'default', labels: { 'e2e.acme.io/prepull': 'true' } },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'pull',
        image,
        command: ['true'],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      }],
    },
  }));
  const applied = await cluster.kube.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }), 'e2e');
  if (applied.code !== 0) throw new Error(`pods pulling ${image} not created: ${applied.stderr}`);
  let phases = '';
  await waitFor(`every node's kubelet to pull ${image}`, 180_000, async () => {
    const items = (await cluster.kube.json(['-n', 'default', 'get', 'pods', '-l', selector])).items as K8sObject[];
    phases = items.map(p => `${p.spec.nodeName} ${p.status?.phase}`).join(', ');
    return items.length === pods.length && items.every(p => p.status?.phase === 'Succeeded');
  }, 1000).catch(e => {
    throw new Error(`${(e as Error).message} (${phases})`);
  });
  await cluster.kube.run(['-n', 'default', 'delete', 'pods', '-l', selector, '--wait=false'], { allowFail: true });
  return (Date.now() - started) / 1000;
}

/** A CloudNativePG instance pod. */
export interface ClusterInstance {
  readonly name: string;
  /** The node it runs on. */
  readonly node: string;
  /** `primary` or `replica` (the operator's cnpg.io/instanceRole label). */
  readonly role: string;
  readonly ready: boolean;
  /** The image of its Postgres container, as the pod spec names it. */
  readonly image: string;
  /** The image its Postgres container runs, by digest (the kubelet's imageID). */
  readonly imageId: string;
  /** The pod's address. */
  readonly ip: string;
}

/** The instance pods (not the Jobs) of the CloudNativePG Cluster `name` in `ns` that are not being deleted. */
export async function clusterInstances(kube: Kubectl, ns: string, name: string): Promise<ClusterInstance[]> {
  const pods = (await kube.json(['-n', ns, 'get', 'pods', '-l', labelSelector({ 'cnpg.io/cluster': name, 'cnpg.io/podRole': 'instance' })])).items as K8sObject[];
  return pods.filter(p => !p.metadata.deletionTimestamp).map(p => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    role: p.metadata.labels['cnpg.io/instanceRole'] ?? p.metadata.labels.role ?? '',
    ready: (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    image: p.spec.containers.find((c: any) => c.name === 'postgres')?.image ?? '',
    imageId: (p.status.containerStatuses ?? []).find((c: any) => c.name === 'postgres')?.imageID ?? '',
    ip: p.status.podIP ?? '',
  }));
}

/** A CloudNativePG Cluster's status: its current primary, ready instances and phase. */
export async function clusterStatus(kube: Kubectl, ns: string, name: string): Promise<{ primary: string; ready: number; phase: string }> {
  const c = await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', name]);
  return { primary: c.status?.currentPrimary ?? '', ready: c.status?.readyInstances ?? 0, phase: c.status?.phase ?? '' };
}

/** Waits until the Cluster has `instances` ready instances and says it is healthy; the error names its last status and pods. */
export async function waitClusterHealthy(kube: Kubectl, ns: string, name: string, instances: number, timeoutS: number): Promise<void> {
  let last = { primary: '', ready: 0, phase: '' };
  await waitFor(`Cluster ${ns}/${name} healthy with ${instances} ready instances`, timeoutS * 1000, async () => {
    last = await clusterStatus(kube, ns, name);
    return last.ready === instances && last.phase === 'Cluster in healthy state';
  }, 2000).catch(async e => {
    const pods = (await kube.run(['-n', ns, 'get', 'pods,pvc', '-o', 'wide'], { allowFail: true })).stdout;
    throw new Error(`${(e as Error).message}; last status ${JSON.stringify(last)}\n${pods}`);
  });
}

/** psql as the superuser over the local socket of the Cluster's current primary: the rows, one per line. */
export async function psqlOnPrimary(kube: Kubectl, ns: string, name: string, database: string, sql: string): Promise<string[]> {
  const { primary } = await clusterStatus(kube, ns, name);
  const r = await kube.run(['-n', ns, 'exec', primary, '-c', 'postgres', '--', 'psql', '-d', database, '-AtX', '-c', sql]);
  return r.stdout.split('\n').filter(l => l !== '');
}

/**
 * Checks the todo stack's database on CloudNativePG in `ns`: `instances` instances on as many
 * nodes, one primary, the others replicas; the web Deployment pointed at `<name>-rw` with the
 * login of `secret`, whose endpoints are the primary; and every web pod connected to the
 * primary as that login's user (pg_stat_activity: the readiness probe's pooled connection).
 * Returns the instances.
 */
export async function checkWebOnCluster(kube: Kubectl, ns: string, name: string, instances: number, secret: string): Promise<ClusterInstance[]> {
  const pods = await clusterInstances(kube, ns, name);
  const primary = pods.filter(p => p.role === 'primary');
  equal(`${ns}: ${instances} instances, on ${instances} different nodes (${pods.map(p => `${p.name} on ${p.node}`).join(', ')})`,
    [pods.length, new Set(pods.map(p => p.node)).size], [instances, instances]);
  equal(`${ns}: one primary, ${instances - 1} replica(s)`, pods.map(p => p.role).sort(), ['primary', ...Array(instances - 1).fill('replica')]);
  const env = Object.fromEntries(((await kube.json(['-n', ns, 'get', 'deployment', 'todo'])).spec.template.spec.containers[0].env as any[]).map(e => [e.name, e]));
  equal(`${ns}: the web pods connect to ${name}-rw with the user and password of Secret ${secret}`,
    [env.PGHOST?.value, env.PGUSER?.valueFrom?.secretKeyRef?.name, env.PGPASSWORD?.valueFrom?.secretKeyRef?.name], [`${name}-rw`, secret, secret]);
  const endpoints = ((await kube.json(['-n', ns, 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${name}-rw`])).items as K8sObject[])
    .flatMap(s => (s.endpoints ?? []).flatMap((e: any) => e.addresses));
  equal(`${ns}: Service ${name}-rw leads to the primary ${primary[0]?.name} only`, endpoints, primary.map(p => p.ip));
  const user = (await kube.run(['-n', ns, 'get', 'secret', secret, '-o', 'jsonpath={.data.username}'])).stdout;
  const login = Buffer.from(user, 'base64').toString();
  const webIps = ((await kube.json(['-n', ns, 'get', 'pods', '-l', labelSelector({ 'app.kubernetes.io/component': 'web' })])).items as K8sObject[])
    .filter(p => !p.metadata.deletionTimestamp).map(p => p.status.podIP as string).sort();
  let clients: string[] = [];
  await waitFor(`every web pod connected to the primary as ${login}`, 30_000, async () => {
    clients = await psqlOnPrimary(kube, ns, name, 'postgres', `SELECT DISTINCT host(client_addr) FROM pg_stat_activity WHERE usename = '${login}' AND datname = 'todo' ORDER BY 1`);
    return webIps.every(ip => clients.includes(ip));
  }, 1000).catch(() => undefined);
  check(`${ns}: every web pod (${webIps.join(', ')}) has a connection to the primary as ${login} (pg_stat_activity: ${clients.join(', ') || 'none'})`,
    webIps.length > 0 && webIps.every(ip => clients.includes(ip)));
  return pods;
}
