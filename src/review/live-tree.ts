import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ManifestObject, ManifestTree } from './manifest-tree';

/** The field manager Argo CD's server-side apply uses, so the dry run predicts what Argo CD would do. */
export const ARGO_CD_FIELD_MANAGER = 'argocd-controller';

/** Metadata the API server writes that says nothing about the desired state. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];
const SERVER_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** The cluster side of a tree: what is there now, and what applying the tree would make of it. */
export interface LiveTrees {
  /** The objects of the tree as they are in the cluster now (absent ones left out). */
  readonly live: ManifestTree;
  /** The same objects as the API server would store them after a server-side apply (a dry run). */
  readonly predicted: ManifestTree;
}

/**
 * Asks the cluster of the user's kubeconfig, with `kubectl`, for the live
 * objects of the tree in `dir` and for the result of applying it server-side
 * as Argo CD does (`--dry-run=server`, as `kubectl diff --server-side`);
 * nothing is changed in the cluster.
 * @throws Error with kubectl's message when the cluster refuses (no access, unknown kind, invalid object)
 */
export function readLiveTrees(dir: string, env: NodeJS.ProcessEnv): LiveTrees {
  const kubectl = env.KUBECTL ?? 'kubectl';
  const live: ManifestObject[] = [];
  const predicted: ManifestObject[] = [];
  for (const directory of fs.readdirSync(dir).filter(d => fs.statSync(path.join(dir, d)).isDirectory()).sort()) {
    const files = path.join(dir, directory);
    const run = (...args: string[]) => {
      const r = spawnSync(kubectl, [...args, '-f', files, '-o', 'json'], { env, encoding: 'utf-8', maxBuffer: 1024 * 1024 * 1024 });
      if (r.error) throw new Error(`cannot run ${kubectl}: ${r.error.message} (set KUBECTL to its path)`);
      if (r.status !== 0) throw new Error(`kubectl ${args[0]} of ${directory}/ failed: ${r.stderr.trim()}`);
      const out = JSON.parse(r.stdout || '{"items":[]}');
      return (out.kind === 'List' ? out.items : [out]).map((object: any) => ({ directory, file: directory, object: withoutServerFields(object) }));
    };
    live.push(...run('get', '--ignore-not-found'));
    predicted.push(...run('apply', '--server-side', '--dry-run=server', `--field-manager=${ARGO_CD_FIELD_MANAGER}`, '--force-conflicts'));
  }
  return { live: new ManifestTree(live), predicted: new ManifestTree(predicted) };
}

function withoutServerFields(object: any): any {
  const copy = structuredClone(object);
  delete copy.status;
  for (const field of SERVER_METADATA) delete copy.metadata?.[field];
  for (const annotation of SERVER_ANNOTATIONS) delete copy.metadata?.annotations?.[annotation];
  if (copy.metadata?.annotations && Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  return copy;
}
