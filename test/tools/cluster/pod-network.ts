/**
 * The cluster's networks (see layout.ts for the picture): the control plane's
 * namespace joined to the host by a veth pair with a private /30 and to the
 * nodes by a bridge; one namespace per node with its pod bridge cni0 (bridge
 * CNI, host-local IPAM over the node's /24) and kindnet-style routes to every
 * other node's pod range through that node's address. No namespace has a
 * default route off the machine: the nodes' default route is the control
 * plane's namespace, which has none, so nothing is routed off this machine;
 * pods reach the host end <net>.1 masqueraded as <net>.2.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DaemonPlace, startDaemon } from './daemons';
import { CLUSTER_CIDR, ClusterLayout, NODE_GATEWAY, NODE_NETWORK, NodeLayout } from './layout';
import { running, sh, waitUntil } from './sys';

/** Debian's containernetworking-plugins. */
export const CNI_BIN_DIR = '/usr/lib/cni';
/** Host directories a node's private mount namespace binds its own directories over. */
export const HOST_MOUNTPOINTS = ['/run/containerd', '/var/lib/cni', '/var/log/pods', '/var/log/containers'];

/** A /30 of 10.254.0.0/16 no address or route of the host uses yet, starting at a place derived from the id. */
export async function pickSubnet(id: string): Promise<{ hostIp: string; apiIp: string }> {
  const addresses = (await sh('ip', ['-4', '-o', 'addr', 'show'])).stdout;
  const start = parseInt(id.slice(0, 4), 16) % 16384;
  for (let i = 0; i < 64; i++) {
    const base = ((start + i) % 16384) * 4;
    const net = `10.254.${Math.floor(base / 256)}`;
    const hostIp = `${net}.${(base % 256) + 1}`;
    const apiIp = `${net}.${(base % 256) + 2}`;
    if (addresses.includes(` ${hostIp}/`) || addresses.includes(` ${apiIp}/`)) continue;
    const route = (await sh('ip', ['-4', 'route', 'show', 'to', 'match', hostIp])).stdout;
    if (route.split('\n').some(l => l && !l.startsWith('default'))) continue;
    return { hostIp, apiIp };
  }
  throw new Error('no free /30 in 10.254.0.0/16');
}

const inNetns = (netns: string, ...args: string[]) => sh('ip', ['netns', 'exec', netns, ...args]);

/** The control plane's namespace: veth to the host, the node bridge, forwarding, masquerading towards the host. */
export async function createControlPlaneNetwork(c: ClusterLayout): Promise<void> {
  await sh('ip', ['netns', 'add', c.netns]);
  await sh('ip', ['link', 'add', c.hostVeth, 'type', 'veth', 'peer', 'name', 'host', 'netns', c.netns]);
  await sh('ip', ['addr', 'add', `${c.hostIp}/30`, 'dev', c.hostVeth]);
  await sh('ip', ['link', 'set', c.hostVeth, 'up']);
  const ip = (...args: string[]) => sh('ip', ['-n', c.netns, ...args]);
  await ip('addr', 'add', `${c.apiIp}/30`, 'dev', 'host');
  await ip('link', 'set', 'host', 'up');
  await ip('link', 'set', 'lo', 'up');
  await ip('link', 'add', 'nodes', 'type', 'bridge');
  await ip('addr', 'add', `${NODE_GATEWAY}/24`, 'dev', 'nodes');
  await ip('link', 'set', 'nodes', 'up');
  await inNetns(c.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  // Traffic from the nodes and pods to the host end leaves as <net>.2, so the host answers
  // through the veth instead of routing cluster addresses to its default gateway.
  for (const source of c.nodes.length ? [NODE_NETWORK, CLUSTER_CIDR] : []) {
    await inNetns(c.netns, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', source, '-o', 'host', '-j', 'MASQUERADE');
  }
}

/** A node's namespace on the node bridge, with routes to the other nodes' pod ranges (and theirs to it). */
export async function createNodeNetwork(c: ClusterLayout, node: NodeLayout): Promise<void> {
  const link = `n${node.index}`;
  await sh('ip', ['netns', 'add', node.name]);
  await sh('ip', ['-n', c.netns, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.name]);
  await sh('ip', ['-n', c.netns, 'link', 'set', link, 'master', 'nodes', 'up']);
  const ip = (...args: string[]) => sh('ip', ['-n', node.name, ...args]);
  await ip('addr', 'add', `${node.ip}/24`, 'dev', 'eth0');
  await ip('link', 'set', 'eth0', 'up');
  await ip('link', 'set', 'lo', 'up');
  await ip('route', 'add', 'default', 'via', NODE_GATEWAY);
  // The control plane answers pods (the `kubernetes` Service, metrics) through the node.
  await sh('ip', ['-n', c.netns, 'route', 'add', node.podCidr, 'via', node.ip]);
  for (const other of c.nodes.filter(n => n.index !== node.index)) await ip('route', 'add', other.podCidr, 'via', other.ip);
  // br_netfilter's bridge-nf-call-iptables is per network namespace: traffic bridged between
  // pods on cni0 passes iptables, so a pod reaching a Service whose endpoint is on the same
  // bridge gets its reply un-DNATed. route_localnet: kube-proxy's NodePorts on 127.0.0.1.
  await inNetns(node.name, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1', 'net.ipv4.conf.all.route_localnet=1');
}

/**
 * The node's private mount namespace: a holder process (in the node's network
 * namespace and cgroup) whose mount namespace every daemon of the node joins.
 * Mounts made there (overlay root filesystems, secret tmpfs, the pods' network
 * namespaces) never appear on the host and vanish with the node's processes.
 */
export async function startMountHolder(c: ClusterLayout, node: NodeLayout, cgroup: string): Promise<number> {
  for (const m of HOST_MOUNTPOINTS) fs.mkdirSync(m, { recursive: true });
  const binds = HOST_MOUNTPOINTS.map(m => {
    const own = path.join(node.dir, 'mounts', m.replace(/\//g, '_'));
    fs.mkdirSync(own, { recursive: true });
    return `mount --bind '${own}' '${m}'`;
  });
  const ready = path.join(node.dir, 'holder.ready');
  // / is made rshared inside it (a new peer group, not the host's) for the kubelet's mount propagation.
  const script = ['set -e', ...binds, 'mount --make-rshared /', `touch '${ready}'`, 'exec sleep infinity'].join('\n');
  const place: DaemonPlace = { netns: node.name, cgroup };
  const pid = startDaemon(c.dir, `${node.name}.holder`, place, ['unshare', '--mount', '--propagation', 'private', '--', 'bash', '-c', script]);
  await waitUntil(`the mount namespace of ${node.name}`, 20, async () => fs.existsSync(ready), () => (running(pid) ? undefined : 'the holder exited'), 100);
  return pid;
}

/** The node's CNI configuration: bridge cni0 over its pod range; no ipMasq (pods stay inside the cluster). */
export function writeCniConfig(node: NodeLayout): string {
  const confDir = path.join(node.dir, 'cni', 'net.d');
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(path.join(confDir, '10-cluster.conflist'), `${JSON.stringify({
    cniVersion: '0.4.0',
    name: 'cluster',
    plugins: [{
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: false,
      // A pod reaches itself through its Service's ClusterIP.
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: node.podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(node.dir, 'cni', 'ipam') },
    }],
  }, null, 2)}\n`);
  return confDir;
}
