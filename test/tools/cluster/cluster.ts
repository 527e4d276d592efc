/**
 * `up`: a throw-away cluster of one control plane and N worker nodes whose
 * pods really run, every part in the cluster's own network namespaces,
 * mount namespaces and cgroups (see layout.ts for the picture, teardown.ts
 * for `down`). On failure or a signal, `up` tears down what it started.
 *
 * The tools come from test/tools/install.sh (PATH): etcd, the Kubernetes
 * binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
 * kube-proxy, kubectl), containerd and runc, Debian's CNI plugins, crane,
 * CoreDNS, k8s-pause and kube-router.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addonsYaml } from './addons';
import { controlPlanePki, nodePki, writeKubeconfig } from './certificates';
import { killCgroup, makeCgroup } from './cgroups';
import {
  apiServerUrl, startApiServer, startControllers, startEtcd, waitForApiServer, waitForControllers,
} from './control-plane';
import { waitForDaemon } from './daemons';
import { ClusterLayout, MARKER, MAX_NODES, NodeLayout, clusterId, clusterLayout, saveLayout } from './layout';
import { nodeCgroup, startContainerd, startNodeAgents, waitForKubeProxy } from './node-runtime';
import { CNI_BIN_DIR, createControlPlaneNetwork, createNodeNetwork, pickSubnet, startMountHolder } from './pod-network';
import { pushBinaryImage, registryAddress, startRegistry } from './registry';
import { onPath, progressLine, sh, succeeds } from './sys';
import { down, raiseInotifyInstances, saveSysctls } from './teardown';

/** What the control plane alone needs (`up DIR --nodes 0`). */
export const CONTROL_PLANE_COMMANDS = ['openssl', 'curl', 'ip', 'nsenter', 'unshare', 'sysctl', 'etcd',
  'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
export const REQUIRED_COMMANDS = [...CONTROL_PLANE_COMMANDS, 'iptables', 'ipset', 'conntrack', 'kubelet', 'kube-proxy', 'containerd',
  'containerd-shim-runc-v2', 'runc', 'crane', 'coredns', 'k8s-pause', 'kube-router'];
/** The install.sh tools that put REQUIRED_COMMANDS on PATH (and ko, which builds images into the registry). */
export const CLUSTER_TOOLS = ['kube', 'cluster', 'netpol', 'coredns', 'crane', 'ko', 'debs'];

/**
 * The version of `module` that install.sh builds in one of its wrapper modules: the one
 * test/tools/<wrapper>/go.mod requires (by default the module of the tools made of Kubernetes' libraries).
 */
export function toolModuleVersion(module: string, wrapper = 'kube'): string {
  const goMod = fs.readFileSync(path.join(__dirname, '..', wrapper, 'go.mod'), 'utf-8');
  const version = new RegExp(`^(?:require)?\\s+${module.replace(/\./g, '\\.')} (v\\S+)$`, 'm').exec(goMod)?.[1];
  if (!version) throw new Error(`test/tools/${wrapper}/go.mod requires no ${module} (a line "${module} vX.Y.Z")`);
  return version;
}

/** The Kubernetes version `install.sh kube cluster` builds: test/tools/kube/go.mod's k8s.io/kubernetes. */
export function kubernetesVersion(): string {
  return toolModuleVersion('k8s.io/kubernetes');
}

/**
 * The directory `install.sh kube cluster` builds the cluster's Kubernetes into:
 * <tools cache>/kubernetes-<kubernetesVersion()>. Its binaries go first on PATH, whatever else is there.
 */
export function kubernetesDir(): string {
  const version = kubernetesVersion();
  const cache = process.env.TODO_GITOPS_TOOLS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'todo-gitops', 'tools');
  return path.join(cache, `kubernetes-${version}`);
}

/** Puts kubernetesDir() first on PATH (of this process and the daemons it starts). */
function useClusterKubernetes(): void {
  const dir = kubernetesDir();
  if (!(process.env.PATH ?? '').startsWith(`${dir}:`)) process.env.PATH = `${dir}:${process.env.PATH}`;
}

export interface UpOptions {
  /**
   * Worker nodes (default 1). 0: the control plane alone, without registry or addons, for tests
   * that only need the API (their nodes, if any, are kwok's fakes).
   */
  nodes?: number;
  /** Seconds to wait for each component (default 180). */
  timeoutS?: number;
}

export function kubeconfigPath(dir: string): string {
  return path.join(dir, 'kubeconfig');
}

/** The lines `up` and `env` print, for `eval`. */
export function envLines(c: ClusterLayout): string {
  return [
    `export KUBECONFIG=${kubeconfigPath(c.dir)}`,
    // A control plane alone has no registry and no nodes.
    ...(c.nodes.length ? [
      `export CLUSTER_REGISTRY=${registryAddress(c)}`,
      // The host's address as pods reach it: for servers a test runs on the host (a git server, say).
      `export CLUSTER_HOST_IP=${c.hostIp}`,
      `export CLUSTER_NODES=${c.nodes.map(n => n.name).join(',')}`,
    ] : []),
  ].join('\n');
}

function checkPrerequisites(dir: string, nodes: number): void {
  if (process.getuid?.() !== 0) throw new Error('must run as root (network namespaces, cgroups, containerd)');
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > MAX_NODES) throw new Error(`--nodes must be 0..${MAX_NODES}, got ${nodes}`);
  const missing = (nodes ? REQUIRED_COMMANDS : CONTROL_PLANE_COMMANDS).filter(c => !onPath(c));
  if (missing.length) throw new Error(`not on PATH: ${missing.join(', ')} (eval "$(test/tools/install.sh ${CLUSTER_TOOLS.join(' ')})")`);
  for (const plugin of nodes ? ['bridge', 'host-local', 'loopback'] : []) {
    if (!fs.existsSync(path.join(CNI_BIN_DIR, plugin))) throw new Error(`CNI plugin ${CNI_BIN_DIR}/${plugin} missing (test/tools/install.sh cluster)`);
  }
  if (/[\s'"$\\]/.test(dir)) throw new Error(`the directory may not contain whitespace, quotes, $ or \\: ${dir}`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new Error(`${dir} is not empty (already up? use: cluster down ${dir})`);
  if (fs.existsSync(`/run/netns/kc-${clusterId(dir)}`)) throw new Error(`network namespace kc-${clusterId(dir)} exists (a cluster in ${dir} is up?)`);
}

/** The sandbox ("pause") image every node's containerd uses, pushed to the registry by `up`. */
export function sandboxImage(c: ClusterLayout): string {
  return `${registryAddress(c)}/kube-system/pause:3.10`;
}

/**
 * Starts a node: its cgroups, mount namespace, containerd, kubelet, kube-proxy
 * and kube-router (its network namespace exists). Also brings a stopped node
 * back, as a machine that reboots: the kubelet finds its pods gone and the API
 * server tells it which ones it still has to run.
 */
export async function startNode(c: ClusterLayout, node: NodeLayout, timeoutS: number): Promise<void> {
  useClusterKubernetes();
  makeCgroup(`${nodeCgroup(c, node)}/daemons`);
  makeCgroup(`${nodeCgroup(c, node)}/pods`);
  const holder = await startMountHolder(c, node, `${nodeCgroup(c, node)}/daemons`);
  await startContainerd(c, node, holder, sandboxImage(c), timeoutS);
  await startNodeAgents(c, node, holder);
}

/**
 * Stops a node as if it lost power: every process of it (its daemons, the
 * containers, the mount namespace) SIGKILLed at once. Its network namespace
 * stays, with nothing answering in it; `startNode` brings it back.
 */
export async function stopNode(c: ClusterLayout, node: NodeLayout): Promise<void> {
  const left = await killCgroup(nodeCgroup(c, node));
  if (left.length) throw new Error(`processes of ${node.name} still running: ${left.join(' ')}`);
  fs.rmSync(path.join(node.dir, 'holder.ready'), { force: true });
}

export async function up(dirArg: string, options: UpOptions = {}): Promise<ClusterLayout> {
  const dir = path.resolve(dirArg);
  const nodeCount = options.nodes ?? 1;
  const timeoutS = options.timeoutS ?? 180;
  useClusterKubernetes();
  checkPrerequisites(dir, nodeCount);
  for (const d of ['logs', 'run', 'conf', 'pki', 'tmp', 'etcd', 'registry', 'nodes']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, MARKER), '');
  const started = Date.now();
  const steps = nodeCount ? 8 : 5;
  let step = 0;
  const progress = (line: string) => progressLine(`cluster ${++step}/${steps}`, line);
  try {
    const c = clusterLayout(dir, nodeCount, await pickSubnet(clusterId(dir)));
    saveLayout(c);
    for (const n of c.nodes) fs.mkdirSync(n.dir, { recursive: true });

    progress(`namespaces and cgroups: control plane kc-${c.id} (${c.apiIp}, host end ${c.hostIp})${nodeCount ? `, nodes ${c.nodes.map(n => `${n.name} (${n.ip}, ${n.zone})`).join(', ')}` : ''}`);
    // A control plane alone runs no kubelet, which is what changes them.
    if (nodeCount) {
      await saveSysctls();
      await raiseInotifyInstances();
    }
    makeCgroup(`${c.cgroup}/control-plane`);
    await createControlPlaneNetwork(c);
    for (const n of c.nodes) await createNodeNetwork(c, n);

    progress('certificates and kubeconfigs');
    const pki = path.join(dir, 'pki');
    await controlPlanePki(pki, c.apiIp);
    await Promise.all(c.nodes.map(n => nodePki(pki, n.name, n.ip)));
    writeKubeconfig(kubeconfigPath(dir), apiServerUrl(c), pki, 'admin');

    progress('etcd');
    await startEtcd(c, timeoutS);

    if (!nodeCount) {
      progress(`kube-apiserver ${apiServerUrl(c)}`);
      startApiServer(c);
      await waitForApiServer(c, timeoutS);
      progress('kube-controller-manager, kube-scheduler');
      startControllers(c);
      await waitForControllers(c, timeoutS);
      progressLine('cluster', `up in ${((Date.now() - started) / 1000).toFixed(1)}s: the control plane alone, API ${apiServerUrl(c)}`);
      return c;
    }

    progress(`kube-apiserver ${apiServerUrl(c)}, registry ${registryAddress(c)}`);
    startApiServer(c);
    await startRegistry(c, timeoutS);
    await waitForApiServer(c, timeoutS);

    const pauseImage = sandboxImage(c);
    // Tagged with the version the binary reports ("CoreDNS-1.15.0").
    const corednsVersion = /CoreDNS-(\S+)/.exec((await sh('coredns', ['-version'])).stdout)?.[1] ?? 'unknown';
    const corednsImage = `${registryAddress(c)}/kube-system/coredns:v${corednsVersion}`;
    progress(`kube-controller-manager, kube-scheduler; images ${pauseImage}, ${corednsImage}`);
    startControllers(c);
    await pushBinaryImage(c, onPath('k8s-pause')!, 'pause', pauseImage);
    await pushBinaryImage(c, onPath('coredns')!, 'coredns', corednsImage);

    progress(`${nodeCount} node(s): mount namespace, containerd, kubelet, kube-proxy, kube-router`);
    await waitForControllers(c, timeoutS);
    await Promise.all(c.nodes.map(n => startNode(c, n, timeoutS)));

    progress('addons: StorageClass local, CoreDNS, kube-router RBAC');
    const kubectl = (...args: string[]) => succeeds('kubectl', ['--kubeconfig', kubeconfigPath(dir), ...args]);
    // A freshly started API server may not serve every resource for a moment: retried.
    await waitForDaemon(dir, 'kube-apiserver', 'the addons applied', timeoutS,
      async () => (await sh('kubectl', ['--kubeconfig', kubeconfigPath(dir), 'apply', '-f', '-'], { input: addonsYaml(corednsImage, nodeCount), allowFail: true })).code === 0);

    progress('waiting for every node Ready, kube-proxy, CoreDNS Available');
    for (const n of c.nodes) {
      await waitForDaemon(dir, `${n.name}.kubelet`, `node ${n.name} Ready`, timeoutS, () => kubectl('wait', '--for=condition=Ready', `node/${n.name}`, '--timeout=2s'));
    }
    await Promise.all(c.nodes.map(n => waitForKubeProxy(c, n, timeoutS)));
    try {
      await waitForDaemon(dir, 'kube-apiserver', 'CoreDNS Available', timeoutS, () => kubectl('-n', 'kube-system', 'wait', '--for=condition=Available', 'deploy/coredns', '--timeout=2s'));
    } catch (e) {
      const pods = await sh('kubectl', ['--kubeconfig', kubeconfigPath(dir), '-n', 'kube-system', 'describe', 'pods', '-l', 'k8s-app=kube-dns'], { allowFail: true });
      throw new Error(`${(e as Error).message}\n${pods.stdout.split('\n').slice(-25).join('\n')}`);
    }
    progressLine('cluster', `up in ${((Date.now() - started) / 1000).toFixed(1)}s: ${nodeCount} node(s), API ${apiServerUrl(c)}, registry ${registryAddress(c)}`);
    return c;
  } catch (e) {
    progressLine('cluster', `up failed: ${(e as Error).message}`);
    const keep = process.env.CLUSTER_KEEP_LOGS;
    if (keep && fs.existsSync(path.join(dir, 'logs'))) {
      fs.cpSync(path.join(dir, 'logs'), keep, { recursive: true });
      progressLine('cluster', `logs copied to ${keep}`);
    }
    progressLine('cluster', 'tearing down');
    await down(dir).catch(err => progressLine('cluster', `down failed: ${(err as Error).message}`));
    throw e;
  }
}

