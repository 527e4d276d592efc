/**
 * A real single-node cluster for end-to-end suites whose pods must really run:
 * test/tools/cluster.sh (containerd, kubelet, kube-proxy, CoreDNS, a local
 * registry, all in a network namespace of their own; needs root). The kwok
 * based helpers of cluster-support.ts stay for the suites that only need an
 * API server.
 *
 *   const toolEnv = await installTools(REAL_CLUSTER_TOOLS);
 *   const cluster = await startRealCluster(path.join(tmp, 'cluster'), toolEnv);
 *   // cluster.env has KUBECONFIG; images go to cluster.registry (plain HTTP, pulled by the node)
 *   await localPersistentVolumes(cluster, 'todo-dev', objects);  // PVs bound to the stack's claims
 *
 * Everything started here registers its own cleanup with the harness.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { K8sObject, Kubectl, persistentVolumes } from './cluster-support';
import { ROOT, RunResult, check, equal, onCleanup, progress, run, stopProcess } from './harness';
import { makeBaseImage } from './registry-support';
import { ImageLock, ImageLockDocument } from '../../src';

export const CLUSTER_SH = path.join(ROOT, 'test', 'tools', 'cluster.sh');
/** The install.sh tools cluster.sh needs (ko for building images into its registry). */
export const REAL_CLUSTER_TOOLS = ['kube', 'node', 'coredns', 'crane', 'ko', 'debs'];

export interface RealCluster {
  /** The cluster's directory (cluster.sh up DIR). */
  dir: string;
  /** toolEnv with KUBECONFIG and CLUSTER_REGISTRY. */
  env: NodeJS.ProcessEnv;
  /** host:port of the cluster's registry, e.g. 10.254.12.34:5000: pushed to from here, pulled by the node. */
  registry: string;
  /** The host's address as pods reach it (the host end of the node's veth pair), for servers a test runs. */
  hostIp: string;
  /** The node's name. */
  node: string;
  kube: Kubectl;
}

/** Brings up a cluster in `dir` (torn down by a cleanup, also when `up` fails half-way). */
export async function startRealCluster(dir: string, toolEnv: NodeJS.ProcessEnv): Promise<RealCluster> {
  onCleanup('tear down the cluster', async () => {
    const r = await run('bash', [CLUSTER_SH, 'down', dir], { env: toolEnv, allowFail: true, echo: '    | ' });
    if (r.code !== 0) progress(`  cluster.sh down exited ${r.code}`);
  });
  const r = await run('bash', [CLUSTER_SH, 'up', dir], { env: toolEnv, echo: '    | ' });
  const kubeconfig = /^export KUBECONFIG=(\S+)$/m.exec(r.stdout)?.[1];
  const registry = /^export CLUSTER_REGISTRY=(\S+)$/m.exec(r.stdout)?.[1];
  const hostIp = /^export CLUSTER_HOST_IP=(\S+)$/m.exec(r.stdout)?.[1];
  if (!kubeconfig || !registry || !hostIp) throw new Error(`cluster.sh up printed no KUBECONFIG/CLUSTER_REGISTRY/CLUSTER_HOST_IP lines: ${r.stdout}`);
  const env: NodeJS.ProcessEnv = { ...toolEnv, KUBECONFIG: kubeconfig, CLUSTER_REGISTRY: registry };
  delete env.KUBECTL_EXTERNAL_DIFF;
  const kube = new Kubectl(env);
  const nodes = (await kube.json(['get', 'nodes'])).items as K8sObject[];
  const ready = nodes.filter(n => (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
  check(`cluster node is Ready (${nodes.map(n => n.metadata.name).join(', ')})`, nodes.length === 1 && ready.length === 1);
  return { dir, env, registry, hostIp, node: nodes[0]?.metadata.name, kube };
}

/**
 * Local PersistentVolumes (cluster.sh pv: a directory under the cluster's dir,
 * class "local") pre-bound to every claim of a stack deployed to `ns`: the
 * standalone PersistentVolumeClaims and the StatefulSets' claim templates, as
 * cluster-support.ts persistentVolumes() enumerates them. The kubelet applies
 * the pods' fsGroup to them.
 */
export async function localPersistentVolumes(cluster: RealCluster, ns: string, objects: K8sObject[]): Promise<string[]> {
  const names: string[] = [];
  for (const pv of persistentVolumes(ns, objects)) {
    const name = pv.metadata.name as string;
    await run('bash', [CLUSTER_SH, 'pv', cluster.dir, name, pv.spec.capacity.storage, `${ns}/${pv.spec.claimRef.name}`], { env: cluster.env });
    names.push(name);
  }
  return names;
}

/** test/tools/images/build.sh: images built here (cached) and pushed to a registry. */
export const IMAGES_SH = path.join(ROOT, 'test', 'tools', 'images', 'build.sh');

/**
 * Builds (cached) and pushes Postgres, postgres_exporter, the Sealed Secrets
 * controller and the CloudNativePG operator (the platform part's two
 * controllers) and its Postgres image to `registry`, and returns `lock` with
 * the upstream images replaced by those digests: the lock a CI job would hold.
 */
export async function withLocalImages(lock: ImageLockDocument, registry: string, env: NodeJS.ProcessEnv): Promise<ImageLockDocument> {
  const refs = (await run('bash', [IMAGES_SH, 'postgres', 'postgres-exporter', 'sealed-secrets-controller', 'cloudnative-pg', 'cloudnative-pg-postgresql', registry],
    { env, echo: '    | ' })).stdout.trim().split('\n');
  equal('build.sh printed five references by digest', refs.map(r => /@sha256:[0-9a-f]{64}$/.test(r)), [true, true, true, true, true]);
  const [postgres, exporter, controller, operator, clusterPostgres] = refs.map(r => r.split('@'));
  const images = { ...lock.images };
  images.postgres = { ...images.postgres, repository: postgres[0], digest: postgres[1], builder: 'upstream' };
  images['postgres-exporter'] = { ...images['postgres-exporter'], repository: exporter[0], digest: exporter[1], builder: 'upstream' };
  images['sealed-secrets-controller'] = { ...images['sealed-secrets-controller'], repository: controller[0], digest: controller[1] };
  images['cloudnative-pg'] = { ...images['cloudnative-pg'], repository: operator[0], digest: operator[1] };
  images['cloudnative-pg-postgresql'] = { ...images['cloudnative-pg-postgresql'], repository: clusterPostgres[0], digest: clusterPostgres[1] };
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
export async function buildTodoImage(cluster: Pick<RealCluster, 'registry'>, toolEnv: NodeJS.ProcessEnv, options: TodoImageOptions): Promise<void> {
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
export async function buildLocalTodoTree(cluster: Pick<RealCluster, 'registry'>, toolEnv: NodeJS.ProcessEnv, tmp: string, options: Omit<TodoImageOptions, 'baseImage'>): Promise<string> {
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

/** The multi-node cluster program (test/tools/cluster/main.ts), run by Node through ts-node. */
export const CLUSTER_PROGRAM = ['-r', path.join(ROOT, 'node_modules', 'ts-node', 'register', 'transpile-only'), path.join(ROOT, 'test', 'tools', 'cluster', 'main.ts')];

/** A cluster of the multi-node program: a control plane and worker nodes of the current Kubernetes. */
export interface NodesCluster {
  /** The cluster's directory (`up DIR`). */
  readonly dir: string;
  /** The tool environment with KUBECONFIG and CLUSTER_REGISTRY. */
  readonly env: NodeJS.ProcessEnv;
  /** host:port of the registry the nodes pull from over plain HTTP. */
  readonly registry: string;
  /** The worker nodes, in order: kc-<id>-1 in zone-a, kc-<id>-2 in zone-b, ... */
  readonly nodes: string[];
  readonly kube: Kubectl;
  /** Runs one of the program's commands on this cluster (`pv`, `stop-node`, `start-node`, `exec`). */
  command(args: string[]): Promise<RunResult>;
}

/**
 * Local PersistentVolumes on `node` (the program's `pv`) pre-bound to every
 * claim of a stack deployed to `ns`, as cluster-support.ts persistentVolumes()
 * enumerates them; the pods that use them are pinned to that node.
 */
export async function nodeVolumes(cluster: NodesCluster, ns: string, objects: K8sObject[], node: string): Promise<void> {
  for (const pv of persistentVolumes(ns, objects)) {
    const r = await cluster.command(['pv', pv.metadata.name, pv.spec.capacity.storage, `${ns}/${pv.spec.claimRef.name}`, '--node', node]);
    if (!check(`local PersistentVolume ${pv.metadata.name} on ${node}`, r.code === 0, r.stderr)) throw new Error(`PersistentVolume ${pv.metadata.name} not created`);
  }
}

/** Brings up `nodes` worker nodes in `dir` with the cluster program (torn down by a cleanup, also when `up` fails). */
export async function startNodesCluster(dir: string, toolEnv: NodeJS.ProcessEnv, nodes: number): Promise<NodesCluster> {
  const program = (args: string[], allowFail = false) => run(process.execPath, [...CLUSTER_PROGRAM, ...args], { env: toolEnv, allowFail, echo: '    | ' });
  onCleanup('tear down the cluster', async () => {
    const r = await program(['down', dir], true);
    if (r.code !== 0) progress(`  cluster down exited ${r.code}`);
  });
  const r = await program(['up', dir, '--nodes', String(nodes)]);
  const value = (name: string) => new RegExp(`^export ${name}=(\\S+)$`, 'm').exec(r.stdout)?.[1];
  const [kubeconfig, registry, names] = [value('KUBECONFIG'), value('CLUSTER_REGISTRY'), value('CLUSTER_NODES')?.split(',')];
  if (!kubeconfig || !registry || !names) throw new Error(`cluster up printed no KUBECONFIG/CLUSTER_REGISTRY/CLUSTER_NODES lines: ${r.stdout}`);
  const env: NodeJS.ProcessEnv = { ...toolEnv, KUBECONFIG: kubeconfig, CLUSTER_REGISTRY: registry };
  const kube = new Kubectl(env);
  return { dir, env, registry, nodes: names, kube, command: args => program([args[0], dir, ...args.slice(1)], true) };
}
