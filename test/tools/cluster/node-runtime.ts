/**
 * A worker node: its own containerd (root, state, socket under the node's
 * directory; CRI, overlayfs, cgroupfs), kubelet (cgroupRoot /kc-<id>/<node>/pods,
 * labels kubernetes.io/hostname and topology.kubernetes.io/zone), kube-proxy
 * (iptables) and kube-router's NetworkPolicy firewall, all in the node's
 * network and mount namespaces and its cgroup /kc-<id>/<node>/daemons.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeKubeconfig } from './certificates';
import { apiServerUrl } from './control-plane';
import { DaemonPlace, logFile, startDaemon, waitForDaemon } from './daemons';
import { CLUSTER_CIDR, CLUSTER_DOMAIN, ClusterLayout, DNS_SERVICE_IP, NodeLayout, SERVICE_CIDR } from './layout';
import { CNI_BIN_DIR, writeCniConfig } from './pod-network';
import { registryAddress } from './registry';
import { onPath, sh, succeeds } from './sys';

/** Stopped in this order by teardown (the kubelet before the runtime it drives). */
export const NODE_DAEMONS = ['kube-router', 'kube-proxy', 'kubelet', 'containerd'];

export function nodeCgroup(c: ClusterLayout, node: NodeLayout): string {
  return `${c.cgroup}/${node.name}`;
}

export function nodePlace(c: ClusterLayout, node: NodeLayout, mountHolder: number): DaemonPlace {
  return { netns: node.name, mountHolder, cgroup: `${nodeCgroup(c, node)}/daemons` };
}

export function containerdSocket(node: NodeLayout): string {
  return path.join(node.dir, 'containerd', 'containerd.sock');
}

/** The minor version a Kubernetes binary reports (`kubelet --version` -> "Kubernetes v1.37.2"). */
export async function kubeMinor(binary: string): Promise<number> {
  const out = (await sh(binary, ['--version'])).stdout;
  const m = /v1\.(\d+)\./.exec(out);
  if (!m) throw new Error(`cannot read the version of ${binary}: ${out}`);
  return Number(m[1]);
}

function writeContainerdConfig(c: ClusterLayout, node: NodeLayout, pauseImage: string): string {
  const d = path.join(node.dir, 'containerd');
  const registry = registryAddress(c);
  fs.mkdirSync(path.join(d, 'certs.d', registry), { recursive: true });
  // Plain-HTTP pulls from the cluster's registry (containerd's hosts.toml registry config).
  fs.writeFileSync(path.join(d, 'certs.d', registry, 'hosts.toml'),
    `server = "http://${registry}"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`);
  const file = path.join(d, 'config.toml');
  fs.writeFileSync(file, `# containerd 1.6 (Debian bookworm), private to node ${node.name}.
version = 2
root = "${d}/root"
state = "${d}/state"
# Not lower than ours: without CAP_SYS_RESOURCE a negative oom_score_adj is refused.
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "${containerdSocket(node)}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  # runc would write the kubelet's negative oom_score_adj (pause -998, Guaranteed pods -997),
  # which root without CAP_SYS_RESOURCE may not: clamp every container's to containerd's own.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state directory (inside the node's mount namespace).
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${onPath('runc')}"
        Root = "${d}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${writeCniConfig(node)}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${d}/certs.d"
`);
  return file;
}

function writeKubeletConfig(c: ClusterLayout, node: NodeLayout, kubeletMinor: number): string {
  const pki = path.join(c.dir, 'pki');
  const file = path.join(node.dir, 'kubelet.yaml');
  fs.writeFileSync(file, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${containerdSocket(node)}
cgroupDriver: cgroupfs
# Everything the kubelet creates (kubepods, QoS and pod cgroups) is under the node's pods cgroup.
cgroupRoot: /${nodeCgroup(c, node)}/pods
cgroupsPerQOS: true
${kubeletMinor >= 35 ? `# This host has cgroup v1 only; since 1.35 the kubelet refuses it unless told otherwise.
failCgroupV1: false
` : ''}failSwapOn: false
address: ${node.ip}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: ${pki}/${node.name}.kubelet-serving.crt
tlsPrivateKeyFile: ${pki}/${node.name}.kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki}/ca.crt}
authorization:
  mode: Webhook
clusterDNS: [${DNS_SERVICE_IP}]
clusterDomain: ${CLUSTER_DOMAIN}
# No host resolv.conf: pods get only the cluster DNS (nothing is resolved off this machine).
resolvConf: ""
# Not lower than the kubelet's current one (0): root here lacks CAP_SYS_RESOURCE.
oomScoreAdj: 0
# A test machine's disk may be fuller than the defaults (10%/15%) allow.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
containerLogMaxSize: 10Mi
containerLogMaxFiles: 2
`);
  return file;
}

function writeKubeProxyConfig(c: ClusterLayout, node: NodeLayout): string {
  const kubeconfig = path.join(node.dir, 'kube-proxy.kubeconfig');
  writeKubeconfig(kubeconfig, apiServerUrl(c), path.join(c.dir, 'pki'), 'kube-proxy');
  const file = path.join(node.dir, 'kube-proxy.yaml');
  fs.writeFileSync(file, `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: ${kubeconfig}
hostnameOverride: ${node.name}
bindAddress: ${node.ip}
clusterCIDR: ${CLUSTER_CIDR}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Not lower than its current one (default -999 is refused without CAP_SYS_RESOURCE).
oomScoreAdj: 0
# 0 = leave the conntrack sysctls alone (nf_conntrack_max is global, not per namespace).
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  syncPeriod: 30s
  minSyncPeriod: 0s
`);
  return file;
}

const daemonName = (node: NodeLayout, daemon: string) => `${node.name}.${daemon}`;

/**
 * containerd of a node, up to its CRI service. The socket comes first, but
 * the CRI answers "server is not initialized yet" until it has recovered the
 * node's containers (seconds on a node that returns with pods), and a
 * kubelet started before that exits at once; containerd logs "Start
 * streaming server" right before the CRI starts serving. (Found by the
 * node-loss drills: one returning node in three stayed NotReady.)
 */
export async function startContainerd(c: ClusterLayout, node: NodeLayout, holder: number, pauseImage: string, timeoutS: number): Promise<void> {
  const config = writeContainerdConfig(c, node, pauseImage);
  const name = daemonName(node, 'containerd');
  // A returning node has the last run's log (appended to) and socket file: only what this run wrote counts.
  const logStart = fs.existsSync(logFile(c.dir, name)) ? fs.statSync(logFile(c.dir, name)).size : 0;
  startDaemon(c.dir, name, nodePlace(c, node, holder), ['containerd', '--config', config]);
  await waitForDaemon(c.dir, name, `containerd of ${node.name}`, timeoutS, async () => {
    const log = fs.readFileSync(logFile(c.dir, name)).subarray(logStart).toString('utf-8');
    return log.includes('Start streaming server') && fs.existsSync(containerdSocket(node));
  });
}

/** The kubelet of a node (registers it with its labels), kube-proxy and kube-router. */
export async function startNodeAgents(c: ClusterLayout, node: NodeLayout, holder: number): Promise<void> {
  const pki = path.join(c.dir, 'pki');
  const kubeletKubeconfig = path.join(node.dir, 'kubelet.kubeconfig');
  writeKubeconfig(kubeletKubeconfig, apiServerUrl(c), pki, `${node.name}.kubelet-client`);
  const place = nodePlace(c, node, holder);
  startDaemon(c.dir, daemonName(node, 'kubelet'), place, ['kubelet',
    `--config=${writeKubeletConfig(c, node, await kubeMinor('kubelet'))}`, `--kubeconfig=${kubeletKubeconfig}`,
    `--root-dir=${path.join(node.dir, 'kubelet')}`, `--hostname-override=${node.name}`, `--node-ip=${node.ip}`,
    `--node-labels=topology.kubernetes.io/zone=${node.zone}`]);
  startDaemon(c.dir, daemonName(node, 'kube-proxy'), place, ['kube-proxy', `--config=${writeKubeProxyConfig(c, node)}`]);
  const routerKubeconfig = path.join(node.dir, 'kube-router.kubeconfig');
  writeKubeconfig(routerKubeconfig, apiServerUrl(c), pki, 'kube-router');
  startDaemon(c.dir, daemonName(node, 'kube-router'), place, ['kube-router', '--run-firewall=true', '--run-router=false',
    '--run-service-proxy=false', `--kubeconfig=${routerKubeconfig}`, `--hostname-override=${node.name}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`, '--health-port=0']);
}

/** kube-proxy of a node answers its health check (it has synced its rules once). */
export async function waitForKubeProxy(c: ClusterLayout, node: NodeLayout, timeoutS: number): Promise<void> {
  await waitForDaemon(c.dir, daemonName(node, 'kube-proxy'), `kube-proxy of ${node.name}`, timeoutS,
    () => succeeds('ip', ['netns', 'exec', node.name, 'curl', '-fsS', 'http://127.0.0.1:10256/healthz']));
}
