/**
 * The names and addresses of one cluster, derived from its directory alone, so
 * two clusters never collide and `down` finds everything of a cluster from
 * its directory even when the state file is gone.
 *
 *   host ── veth <net>.1/30 ══ <net>.2/30 "host" ── network namespace kc-<id> (the control plane:
 *                                                   etcd, kube-apiserver, controller manager,
 *                                                   scheduler, registry; the router of the nodes)
 *                                                      │ bridge "nodes" 172.18.0.1/24
 *                         ┌────────────────────────────┼───────────────────────────┐
 *   kc-<id>-1: eth0 172.18.0.11, pods 10.244.1.0/24   kc-<id>-2: .12, 10.244.2.0/24  …
 *
 * The 172.18.0.0/24 node network and the pod and service ranges exist only
 * inside the cluster's namespaces; the host reaches the API server and the
 * registry at <net>.2 and has no route to anything else of the cluster.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export const SERVICE_CIDR = '10.96.0.0/16';
export const API_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const CLUSTER_DOMAIN = 'cluster.local';
export const NODE_NETWORK = '172.18.0.0/24';
export const NODE_GATEWAY = '172.18.0.1';
export const API_PORT = 6443;
export const REGISTRY_PORT = 5000;
export const ETCD_PORT = 2379;
/** Written by `up` into the directory; `down` refuses a non-empty directory without it. */
export const MARKER = '.cluster';
/** The most worker nodes one cluster may have (pod CIDRs 10.244.1-N.0/24, node IPs .11-.10+N). */
export const MAX_NODES = 9;

export interface NodeLayout {
  /** Node name, network namespace name and cgroup name: kc-<id>-<index>. */
  name: string;
  index: number;
  /** The node's address on the node network. */
  ip: string;
  /** The node's pod range; the bridge cni0 has its .1. */
  podCidr: string;
  /** topology.kubernetes.io/zone: zone-a, zone-b, ... (one per node, so zone spread is testable). */
  zone: string;
  /** The node's directory: containerd state, kubelet root, local volumes, CNI state. */
  dir: string;
}

export interface ClusterLayout {
  dir: string;
  id: string;
  /** The control plane's (and router's) network namespace and the cgroup root of the cluster. */
  netns: string;
  cgroup: string;
  /** The host end of the veth pair to the control plane namespace (11 characters; 15 is the limit). */
  hostVeth: string;
  hostIp: string;
  /** The control plane's address: API server https://<apiIp>:6443, registry <apiIp>:5000. */
  apiIp: string;
  nodes: NodeLayout[];
}

/** Identifier of a directory: the first 8 hex digits of the sha256 of its absolute path. */
export function clusterId(dir: string): string {
  return createHash('sha256').update(dir).digest('hex').slice(0, 8);
}

export function nodeLayout(dir: string, id: string, index: number): NodeLayout {
  const name = `kc-${id}-${index}`;
  return {
    name,
    index,
    ip: `172.18.0.${10 + index}`,
    podCidr: `10.244.${index}.0/24`,
    zone: `zone-${String.fromCharCode(96 + index)}`,
    dir: path.join(dir, 'nodes', name),
  };
}

/** The layout of a cluster in `dir` with `nodes` workers; hostIp/apiIp are filled by pickSubnet. */
export function clusterLayout(dir: string, nodes: number, subnet: { hostIp: string; apiIp: string }): ClusterLayout {
  const id = clusterId(dir);
  return {
    dir,
    id,
    netns: `kc-${id}`,
    cgroup: `kc-${id}`,
    hostVeth: `kc${id}h`,
    ...subnet,
    nodes: Array.from({ length: nodes }, (_, i) => nodeLayout(dir, id, i + 1)),
  };
}

export function statePath(dir: string): string {
  return path.join(dir, 'run', 'state.json');
}

export function saveLayout(layout: ClusterLayout): void {
  fs.writeFileSync(statePath(layout.dir), `${JSON.stringify(layout, null, 2)}\n`);
}

export function readLayout(dir: string): ClusterLayout {
  const file = statePath(dir);
  if (!fs.existsSync(file)) throw new Error(`${dir} is not a running cluster (no ${file}); bring one up with: cluster up ${dir}`);
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}

/** The cluster-wide names `down` needs when the state file is missing (a half-started `up`). */
export function namesOnly(dir: string): Pick<ClusterLayout, 'dir' | 'id' | 'netns' | 'cgroup' | 'hostVeth'> {
  const id = clusterId(dir);
  return { dir, id, netns: `kc-${id}`, cgroup: `kc-${id}`, hostVeth: `kc${id}h` };
}
