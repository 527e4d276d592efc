import { ManifestObject, ManifestTree } from './manifest-tree';
import { ObjectChange } from './object-diff';
import { SYNC_WAVE_ANNOTATION } from '../common/labels';
import { toYaml } from '../gitops/yaml';
import { podSpecsOf, restrictedViolations } from '../security/pod-security-check';

/** A box in the topology: a directory of the tree, an object, or something outside it. */
export interface TopologyNode {
  /** Unique id. */
  readonly id: string;
  /** Text shown on the node. */
  readonly label: string;
  /** `directory` (a box around objects), `object`, or `external` (a namespace or Secret outside the tree). */
  readonly role: 'directory' | 'object' | 'external';
  /** The directory box it sits in. */
  readonly parent?: string;
  /** Kind of the object. */
  readonly kind?: string;
  /** The object as YAML. */
  readonly yaml?: string;
  /** Argo CD sync wave. */
  readonly wave?: string;
  /** Images of its pods. */
  readonly images?: string[];
  /** Pod Security level its pods meet, with the violations when not restricted. */
  readonly podSecurity?: string;
  /** Against the diff's base: added, changed or removed. */
  readonly diff?: ObjectChange['change'];
  /** For a changed object, the changed field paths. */
  readonly changedFields?: string[];
}

/** A relation between two nodes. */
export interface TopologyEdge {
  /** Unique id. */
  readonly id: string;
  /** From node id. */
  readonly source: string;
  /** To node id. */
  readonly target: string;
  /** What the relation is: `syncs`, `selects`, `allows :5432/TCP`, `uses`, `scales`, `routes`. */
  readonly label: string;
  /** `network` for NetworkPolicy flows, `reference` for the others. */
  readonly type: 'network' | 'reference';
}

/** The objects of a tree and how they relate. */
export interface Topology {
  readonly nodes: TopologyNode[];
  readonly edges: TopologyEdge[];
}

/** The id of an object's node: `directory/Kind/namespace/name` (the live view keys its states by it too). */
export function objectId(directory: string, object: any): string {
  return `${directory}/${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

/** A CloudNativePG `Cluster`: a workload whose pods the operator renders from its spec. */
const isPostgresCluster = (object: any) => object.kind === 'Cluster' && String(object.apiVersion ?? '').startsWith('postgresql.cnpg.io/');
const isWorkload = (object: any) => WORKLOAD_KINDS.includes(object.kind) || isPostgresCluster(object);

/**
 * Builds the topology of `tree`, with `changes` (from {@link diffTrees} against
 * a base) overlaid: removed objects appear as nodes of their own.
 */
export function buildTopology(tree: ManifestTree, changes: readonly ObjectChange[] = []): Topology {
  const nodes = new Map<string, TopologyNode>();
  const edges = new Map<string, TopologyEdge>();
  const changeOf = new Map(changes.map(c => [`${c.directory}/${c.kind}/${c.namespace ?? ''}/${c.name}`, c]));
  const removed: ManifestObject[] = changes.filter(c => c.change === 'removed')
    .map(c => ({ directory: c.directory, file: '', object: c.before }));
  const all = [...tree.objects, ...removed];

  for (const directory of [...new Set(all.map(o => o.directory))].sort()) {
    const namespaces = [...new Set(all.filter(o => o.directory === directory).map(o => o.object.metadata?.namespace).filter(Boolean))];
    nodes.set(`dir:${directory}`, { id: `dir:${directory}`, label: `${directory}/${namespaces.length ? ` (${namespaces.join(', ')})` : ''}`, role: 'directory' });
  }
  for (const { directory, object } of all) {
    const id = objectId(directory, object);
    const change = changeOf.get(id);
    const pods = podSpecsOf(object);
    const violations = pods.flatMap(restrictedViolations);
    const clusterImage = isPostgresCluster(object) ? object.spec?.imageName : undefined;
    nodes.set(id, {
      id,
      label: `${object.kind}\n${object.metadata?.name}`,
      role: 'object',
      parent: `dir:${directory}`,
      kind: object.kind,
      yaml: toYaml([object]),
      ...(object.metadata?.annotations?.[SYNC_WAVE_ANNOTATION] !== undefined ? { wave: object.metadata.annotations[SYNC_WAVE_ANNOTATION] } : {}),
      ...(pods.length ? {
        images: pods.flatMap(p => [...(p.initContainers ?? []), ...(p.containers ?? [])].map((c: any) => `${c.name}: ${c.image}`)),
        podSecurity: violations.length === 0 ? 'restricted' : `not restricted: ${violations.join('; ')}`,
      } : {}),
      ...(clusterImage ? { images: [`postgres: ${clusterImage}`] } : {}),
      ...(change ? { diff: change.change, ...(change.fields.length ? { changedFields: change.fields.map(f => f.path) } : {}) } : {}),
    });
  }

  const edge = (source: string, target: string, label: string, type: TopologyEdge['type'] = 'reference') => {
    if (!nodes.has(source) || !nodes.has(target)) return;
    const id = `${source}->${target}:${label}`;
    edges.set(id, { id, source, target, label, type });
  };
  const external = (directory: string, label: string) => {
    const id = `ext:${directory}:${label}`;
    if (!nodes.has(id)) nodes.set(id, { id, label, role: 'external', parent: `dir:${directory}` });
    return id;
  };
  const workloadsIn = (directory: string, namespace: string | undefined, labels: Record<string, string> | undefined) =>
    all.filter(o => o.directory === directory && isWorkload(o.object) && o.object.metadata?.namespace === namespace
      && labels !== undefined && labelsMatch(podLabels(o.object), labels));

  for (const { directory, object } of all) {
    const id = objectId(directory, object);
    const ns = object.metadata?.namespace;
    switch (object.kind) {
      case 'Application': {
        const dir = String(object.spec?.source?.path ?? '').split('/').pop()!;
        edge(id, `dir:${dir}`, 'syncs');
        break;
      }
      case 'Service':
        for (const w of workloadsIn(directory, ns, object.spec?.selector)) edge(id, objectId(directory, w.object), 'selects');
        break;
      case 'PodDisruptionBudget':
        for (const w of workloadsIn(directory, ns, object.spec?.selector?.matchLabels)) edge(id, objectId(directory, w.object), 'protects');
        break;
      case 'HorizontalPodAutoscaler':
        edge(id, objectId(directory, { kind: object.spec?.scaleTargetRef?.kind, metadata: { namespace: ns, name: object.spec?.scaleTargetRef?.name } }), 'scales');
        break;
      case 'Ingress':
        for (const rule of object.spec?.rules ?? []) {
          for (const p of rule.http?.paths ?? []) {
            edge(id, objectId(directory, { kind: 'Service', metadata: { namespace: ns, name: p.backend?.service?.name } }), `routes ${rule.host ?? '*'}${p.path ?? ''}`);
          }
        }
        break;
      case 'NetworkPolicy':
        networkEdges(directory, object, id);
        break;
    }
    const references = isPostgresCluster(object) ? clusterReferences(object)
      : isBarmanObjectStore(object) ? storeSecrets(object.spec?.configuration)
        : podSpecsOf(object).flatMap(podReferences);
    for (const ref of references) {
      const target = objectId(directory, { kind: ref.kind, metadata: { namespace: ns, name: ref.name } });
      // A sealed Secret is in git as its SealedSecret, which the controller opens into the Secret.
      const sealed = objectId(directory, { kind: 'SealedSecret', metadata: { namespace: ns, name: ref.name } });
      const found = nodes.has(target) ? target : ref.kind === 'Secret' && nodes.has(sealed) ? sealed : undefined;
      edge(id, found ?? external(directory, `${ref.kind} ${ref.name}\n(outside git)`), 'uses');
    }
  }

  /** Who may reach the policy's pods, and which pods they may reach, on which ports. */
  function networkEdges(directory: string, policy: any, policyId: string): void {
    const ns = policy.metadata?.namespace;
    const selected = workloadsIn(directory, ns, policy.spec?.podSelector?.matchLabels).map(w => objectId(directory, w.object));
    for (const target of selected) edge(policyId, target, 'applies to');
    const peerNodes = (peer: any): string[] => {
      if (peer.namespaceSelector) return [external(directory, `namespace ${peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'] ?? '(selected)'}`)];
      if (peer.podSelector && Object.keys(peer.podSelector).length === 0) return [external(directory, `any pod of ${ns}`)];
      if (peer.podSelector) return workloadsIn(directory, ns, peer.podSelector.matchLabels).map(w => objectId(directory, w.object));
      return [external(directory, 'anywhere')];
    };
    const ports = (rule: any) => (rule.ports ?? []).map((p: any) => `:${p.port}/${p.protocol ?? 'TCP'}`).join(' ') || 'any port';
    for (const rule of policy.spec?.ingress ?? []) {
      const peers: string[] = rule.from?.length ? rule.from.flatMap(peerNodes) : [external(directory, 'anywhere')];
      for (const peer of peers) for (const target of selected) edge(peer, target, `allows ${ports(rule)}`, 'network');
    }
    for (const rule of policy.spec?.egress ?? []) {
      const peers: string[] = rule.to?.length ? rule.to.flatMap(peerNodes) : [external(directory, 'anywhere')];
      for (const source of selected) for (const peer of peers) edge(source, peer, `allows ${ports(rule)}`, 'network');
    }
  }

  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

function podLabels(workload: any): Record<string, string> {
  // CloudNativePG labels every instance with its cluster's name, beside the Cluster's inherited labels.
  if (isPostgresCluster(workload)) return { ...workload.spec?.inheritedMetadata?.labels, 'cnpg.io/cluster': workload.metadata?.name };
  return (workload.spec?.jobTemplate?.spec ?? workload.spec)?.template?.metadata?.labels ?? {};
}

/**
 * The ids of the workloads of `tree` whose pods a NetworkPolicy's
 * `podSelector` in `namespace` of `directory` selects. A selector with
 * `matchExpressions` selects every workload of the namespace here (they are
 * not evaluated), which errs towards a finding.
 * @internal
 */
export function selectedWorkloads(tree: ManifestTree, directory: string, namespace: string | undefined, podSelector: any): Set<string> {
  const selector: Record<string, string> = podSelector?.matchExpressions?.length ? {} : podSelector?.matchLabels ?? {};
  return new Set(tree.objects
    .filter(o => o.directory === directory && isWorkload(o.object) && o.object.metadata?.namespace === namespace
      && Object.entries(selector).every(([k, v]) => podLabels(o.object)[k] === v))
    .map(o => objectId(directory, o.object)));
}

/** Whether `labels` carry every label of a non-empty equality `selector` (a Service's, a PDB's matchLabels). */
export function labelsMatch(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * What a CloudNativePG Cluster reads: the owner's login, the keys of its in-tree object stores, and
 * the Barman Cloud plugin's ObjectStores it names (which read the keys themselves).
 */
function clusterReferences(cluster: any): Array<{ kind: string; name: string }> {
  const bootstrap = cluster.spec?.bootstrap ?? {};
  const stores = [cluster.spec?.backup?.barmanObjectStore, ...(cluster.spec?.externalClusters ?? []).map((c: any) => c.barmanObjectStore)];
  const logins = [bootstrap.initdb?.secret?.name, bootstrap.recovery?.secret?.name].filter((name): name is string => typeof name === 'string');
  const objectStores = [...(cluster.spec?.plugins ?? []), ...(cluster.spec?.externalClusters ?? []).map((c: any) => c.plugin)]
    .map(plugin => plugin?.parameters?.barmanObjectName).filter((name): name is string => typeof name === 'string');
  const refs = [...logins.map(name => ({ kind: 'Secret', name })), ...stores.flatMap(storeSecrets), ...objectStores.map(name => ({ kind: 'ObjectStore', name }))];
  return [...new Map(refs.map(r => [`${r.kind}/${r.name}`, r])).values()];
}

/** The Secrets holding a barman-cloud store configuration's keys. */
function storeSecrets(store: any): Array<{ kind: string; name: string }> {
  return [...new Set([store?.s3Credentials?.accessKeyId?.name, store?.s3Credentials?.secretAccessKey?.name]
    .filter((name): name is string => typeof name === 'string'))].map(name => ({ kind: 'Secret', name }));
}

/** The Barman Cloud plugin's ObjectStore: where a Cluster that backs up with the plugin archives, and its key. */
function isBarmanObjectStore(object: any): boolean {
  return object.kind === 'ObjectStore' && typeof object.apiVersion === 'string' && object.apiVersion.startsWith('barmancloud.cnpg.io/');
}

/** Secrets, ConfigMaps and claims a pod reads. */
function podReferences(pod: any): Array<{ kind: string; name: string }> {
  const refs: Array<{ kind: string; name: string }> = [];
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) refs.push({ kind: 'ConfigMap', name: from.configMapRef.name });
      if (from.secretRef) refs.push({ kind: 'Secret', name: from.secretRef.name });
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef) refs.push({ kind: 'Secret', name: e.valueFrom.secretKeyRef.name });
      if (e.valueFrom?.configMapKeyRef) refs.push({ kind: 'ConfigMap', name: e.valueFrom.configMapKeyRef.name });
    }
  }
  for (const v of pod.volumes ?? []) {
    if (v.secret) refs.push({ kind: 'Secret', name: v.secret.secretName });
    if (v.configMap) refs.push({ kind: 'ConfigMap', name: v.configMap.name });
    if (v.persistentVolumeClaim) refs.push({ kind: 'PersistentVolumeClaim', name: v.persistentVolumeClaim.claimName });
  }
  return refs;
}
