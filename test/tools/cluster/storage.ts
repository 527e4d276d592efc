/**
 * Local PersistentVolumes: a directory under a node's directory, class
 * "local", node affinity to that node (as kind's local-path provisioner
 * gives), Retain; pre-bound to a claim when one is named. A pod using it is
 * scheduled onto that node, and stays there: the volume pins it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ClusterLayout, NodeLayout } from './layout';
import { sh } from './sys';

export function volumeDir(node: NodeLayout, name: string): string {
  return path.join(node.dir, 'pv', name);
}

export interface LocalVolume {
  name: string;
  /** e.g. 1Gi */
  size: string;
  /** The node it lives on (default: the first). */
  node?: string;
  /** namespace/name of the claim it is pre-bound to. */
  claim?: string;
}

export function findNode(c: ClusterLayout, name: string | undefined): NodeLayout {
  const node = name === undefined ? c.nodes[0] : c.nodes.find(n => n.name === name || String(n.index) === name);
  if (!node) throw new Error(`no node ${name} in the cluster (nodes: ${c.nodes.map(n => n.name).join(', ')})`);
  return node;
}

/** Creates the directory (root, 0755: the kubelet applies the pod's fsGroup at mount) and the PersistentVolume. */
export async function createLocalVolume(c: ClusterLayout, v: LocalVolume): Promise<string> {
  const node = findNode(c, v.node);
  const dir = volumeDir(node, v.name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const [ns, claim] = (v.claim ?? '').split('/');
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: v.name, labels: { 'kubernetes.io/hostname': node.name } },
    spec: {
      capacity: { storage: v.size },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'local',
      volumeMode: 'Filesystem',
      ...(v.claim ? { claimRef: { namespace: ns, name: claim } } : {}),
      local: { path: dir },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node.name] }] }] } },
    },
  };
  await sh('kubectl', ['--kubeconfig', path.join(c.dir, 'kubeconfig'), 'apply', '-f', '-'], { input: JSON.stringify(pv) });
  return dir;
}
