import { withoutServerFields } from './live-tree';
import { ManifestTree } from './manifest-tree';
import { diffTrees } from './object-diff';
import { labelsMatch, objectId } from './topology';
import { toYaml } from '../gitops/yaml';

/**
 * How an object of git compares with the cluster: `in-sync`, `drifted` (a
 * server-side apply would change it), `missing` (not in the cluster), `extra`
 * (in the cluster, belonging to the environment, not in git), or `unknown`
 * (live, but the dry run that tells drift failed).
 */
export type LiveStatus = 'in-sync' | 'drifted' | 'missing' | 'extra' | 'unknown';

/** Whether a live object is fine, on its way, or in trouble. */
export type LiveHealth = 'healthy' | 'progressing' | 'degraded';

/** A pod as the live view shows it. */
export interface PodState {
  /** Pod name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** `Pending`, `Running`, `Succeeded`, `Failed`, or `Terminating` once it is being deleted. */
  readonly phase: string;
  /** Whether its Ready condition is true. */
  readonly ready: boolean;
  /** Ready containers of all, e.g. `1/2`. */
  readonly readyContainers: string;
  /** Restarts of all its containers. */
  readonly restarts: number;
  /** The node it runs on, once scheduled. */
  readonly node?: string;
  /** Seconds since it was created. */
  readonly ageSeconds: number;
  /** Why a container waits or ended (`CrashLoopBackOff`, `ImagePullBackOff`, `Error`), if one does. */
  readonly reason?: string;
  /** Its CloudNativePG role (`primary`, `replica`), when it has one. */
  readonly role?: string;
  /** Its containers' names, for the log. */
  readonly containers: string[];
}

/** A PersistentVolumeClaim: bound or not, and its size. */
export interface ClaimState {
  /** Claim name. */
  readonly name: string;
  /** `Bound`, `Pending` or `Lost`. */
  readonly phase: string;
  /** Capacity once bound, else the request. */
  readonly size?: string;
}

/** An Argo CD Application's view of its environment. */
export interface ApplicationState {
  /** Application name. */
  readonly name: string;
  /** `Synced`, `OutOfSync` or `Unknown`. */
  readonly sync: string;
  /** `Healthy`, `Progressing`, `Degraded`, `Missing`, ... */
  readonly health: string;
  /** The git revision it synced. */
  readonly revision?: string;
  /** The last operation: its phase and message. */
  readonly operation?: string;
}

/** One object of an environment, git beside live. */
export interface LiveObjectState {
  /** The id of its node in the topology ({@link objectId}). */
  readonly id: string;
  /** The tree directory. */
  readonly directory: string;
  /** Kind. */
  readonly kind: string;
  /** Namespace, if namespaced. */
  readonly namespace?: string;
  /** Name. */
  readonly name: string;
  /** How git and the cluster compare. */
  readonly status: LiveStatus;
  /** For a drifted object, the paths of the fields a sync would change. */
  readonly drift?: string[];
  /** One line of live status, e.g. `2/2 ready, 2 updated, 2 available`. */
  readonly summary?: string;
  /** Health of the live object, where its status tells. */
  readonly health?: LiveHealth;
  /** A workload's pods. */
  readonly pods?: PodState[];
  /** A StatefulSet's claims (from its claim templates), or a claim's own state. */
  readonly claims?: ClaimState[];
  /** An Application's sync and health. */
  readonly application?: ApplicationState;
  /** For an extra object, its live YAML (Secret values redacted), as git has none. */
  readonly yaml?: string;
}

/** What {@link classifyDirectory} compares. */
export interface ClassifyInput {
  /** The tree directory (an environment, `apps`, ...). */
  readonly directory: string;
  /** Its objects in git (the synthesized tree). */
  readonly git: readonly any[];
  /** Live objects of the cluster, as listed with their status (at least those of the directory's namespaces). */
  readonly live: readonly any[];
  /**
   * What a server-side apply of the directory would store (its dry run), server fields removed.
   * @default - drift unknown: live objects are `unknown`
   */
  readonly predicted?: readonly any[];
  /**
   * Whether `predicted` was made for an earlier state of the live objects (a
   * fresh dry run is under way): drift is then only told on fields the dry run
   * sets, which a sync would set back whatever else changed.
   * @default false
   */
  readonly predictedStale?: boolean;
  /**
   * The Argo CD Application that syncs the directory: objects it tracks count as the environment's.
   * @default - none
   */
  readonly application?: string;
  /** Now, in milliseconds since the epoch (pod ages). */
  readonly now: number;
}

/** Live kinds that are never extras: made and owned by controllers, or shown under their owners. */
const NEVER_EXTRA = new Set(['Pod', 'Event', 'ReplicaSet', 'Endpoints', 'EndpointSlice', 'ControllerRevision', 'Lease']);

/** The key that identifies an object across git and the cluster: group, kind, namespace, name. */
export function objectKey(o: any): string {
  const apiVersion: string = o.apiVersion ?? '';
  return [apiVersion.includes('/') ? apiVersion.split('/')[0] : '', o.kind, o.metadata?.namespace ?? '', o.metadata?.name].join('/');
}

/**
 * Compares one directory of git with the cluster: each git object as
 * in sync, drifted (the fields a server-side apply would change, as
 * `diff --cluster` computes them), missing or unknown, with its live status;
 * and the extras: live objects in the directory's namespaces that git lacks
 * but that carry the labels every object of the directory carries, or that
 * Argo CD tracks for its Application. Objects controllers make (anything
 * with an owner, pods, a StatefulSet's claims, the namespace's default
 * ServiceAccount and CA ConfigMap) are not extras.
 */
export function classifyDirectory(input: ClassifyInput): LiveObjectState[] {
  const { directory, git, now } = input;
  const live = new Map(input.live.map(o => [objectKey(o), o]));
  const predicted = input.predicted && new Map(input.predicted.map(o => [objectKey(o), o]));
  const namespaces = new Set(git.map(o => o.metadata?.namespace).filter(Boolean));
  const inNamespaces = input.live.filter(o => namespaces.has(o.metadata?.namespace));
  const pods = inNamespaces.filter(o => o.kind === 'Pod');
  const claims = inNamespaces.filter(o => o.kind === 'PersistentVolumeClaim');
  const states: LiveObjectState[] = [];
  const base = (o: any) => ({
    id: objectId(directory, o),
    directory,
    kind: String(o.kind),
    name: String(o.metadata?.name),
    ...(o.metadata?.namespace ? { namespace: String(o.metadata.namespace) } : {}),
  });

  const gitKeys = new Set<string>();
  for (const object of git) {
    const key = objectKey(object);
    gitKeys.add(key);
    const counterpart = live.get(key);
    if (!counterpart) {
      states.push({ ...base(object), status: 'missing' });
      continue;
    }
    const after = predicted?.get(key);
    let drift: string[] | undefined;
    if (after) {
      const asTree = (o: any) => new ManifestTree([{ directory, file: directory, object: o }]);
      drift = diffTrees(asTree(withoutServerFields(counterpart)), asTree(after))
        .flatMap(c => c.fields.filter(f => !input.predictedStale || f.after !== undefined).map(f => f.path));
    }
    states.push({
      ...base(object),
      status: drift === undefined ? 'unknown' : drift.length ? 'drifted' : 'in-sync',
      ...(drift?.length ? { drift } : {}),
      ...liveStatus(counterpart, pods, claims, now),
    });
  }

  const common = commonLabels(git);
  const derivedClaims = new Set(git.filter(o => o.kind === 'StatefulSet').flatMap(s => claimNames(s)));
  for (const object of inNamespaces) {
    const meta = object.metadata ?? {};
    if (gitKeys.has(objectKey(object)) || NEVER_EXTRA.has(object.kind) || meta.ownerReferences?.length) continue;
    if (object.kind === 'PersistentVolumeClaim' && derivedClaims.has(`${meta.namespace}/${meta.name}`)) continue;
    if ((object.kind === 'ServiceAccount' && meta.name === 'default') || (object.kind === 'ConfigMap' && meta.name === 'kube-root-ca.crt')
      || object.type === 'kubernetes.io/service-account-token') continue;
    const labels: Record<string, string> = meta.labels ?? {};
    const tracked = input.application !== undefined && (labels['app.kubernetes.io/instance'] === input.application
      || String(meta.annotations?.['argocd.argoproj.io/tracking-id'] ?? '').startsWith(`${input.application}:`));
    if (!tracked && !labelsMatch(labels, common)) continue;
    states.push({ ...base(object), status: 'extra', yaml: toYaml([redacted(withoutServerFields(object))]), ...liveStatus(object, pods, claims, now) });
  }
  return states;
}

/** The labels (key and value) every object of `objects` carries. */
export function commonLabels(objects: readonly any[]): Record<string, string> {
  if (objects.length === 0) return {};
  const [first, ...rest] = objects.map(o => (o.metadata?.labels ?? {}) as Record<string, string>);
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every(l => l[k] === v)));
}

/** `namespace/name` of the claims a StatefulSet's claim templates make. */
function claimNames(sts: any): string[] {
  const replicas: number = sts.spec?.replicas ?? 1;
  return (sts.spec?.volumeClaimTemplates ?? []).flatMap((t: any) =>
    Array.from({ length: replicas }, (_, i) => `${sts.metadata?.namespace}/${t.metadata?.name}-${sts.metadata?.name}-${i}`));
}

/** A Secret's values replaced, so the page never shows what git does not. */
function redacted(object: any): any {
  if (object.kind !== 'Secret') return object;
  const hide = (data?: Record<string, string>) => data && Object.fromEntries(Object.keys(data).map(k => [k, '(redacted)']));
  return { ...object, ...(object.data ? { data: hide(object.data) } : {}), ...(object.stringData ? { stringData: hide(object.stringData) } : {}) };
}

/**
 * The live status of `object` worth a glance: replicas and pods of a
 * workload, a claim's binding and size, an Application's sync and health,
 * conditions of the rest.
 * @param pods the pods of its namespace (a workload's are those its selector matches)
 * @param claims the claims of its namespace (a StatefulSet's are those of its claim templates)
 * @param now milliseconds since the epoch
 */
export function liveStatus(object: any, pods: readonly any[], claims: readonly any[], now: number):
Pick<LiveObjectState, 'summary' | 'health' | 'pods' | 'claims' | 'application'> {
  const spec = object.spec ?? {};
  const status = object.status ?? {};
  const selected = () => {
    const selector: Record<string, string> | undefined = spec.selector?.matchLabels;
    return pods.filter(p => p.metadata?.namespace === object.metadata?.namespace && selector && labelsMatch(p.metadata?.labels ?? {}, selector))
      .map(p => podState(p, now)).sort((a, b) => a.name.localeCompare(b.name));
  };
  const troubled = (list: PodState[]) => list.some(p => p.phase === 'Failed' || /BackOff|Err|Invalid/.test(p.reason ?? ''));
  switch (object.kind) {
    case 'Deployment': {
      const desired: number = spec.replicas ?? 1;
      const [ready, updated, available] = [status.readyReplicas, status.updatedReplicas, status.availableReplicas].map(n => n ?? 0);
      const list = selected();
      return {
        summary: `${ready}/${desired} ready, ${updated} updated, ${available} available`,
        health: troubled(list) ? 'degraded' : ready === desired && updated === desired && available === desired ? 'healthy' : 'progressing',
        pods: list,
      };
    }
    case 'StatefulSet': {
      const desired: number = spec.replicas ?? 1;
      const ready: number = status.readyReplicas ?? 0;
      const list = selected();
      const names = new Set(claimNames(object));
      const own = claims.filter(c => names.has(`${c.metadata?.namespace}/${c.metadata?.name}`)).map(claimState);
      return {
        summary: `${ready}/${desired} ready${own.length ? `, claims ${own.map(c => `${c.name} ${c.phase}${c.size ? ` ${c.size}` : ''}`).join(', ')}` : ''}`,
        health: troubled(list) ? 'degraded' : ready === desired ? 'healthy' : 'progressing',
        pods: list,
        claims: own,
      };
    }
    case 'PersistentVolumeClaim': {
      const claim = claimState(object);
      return { summary: `${claim.phase}${claim.size ? `, ${claim.size}` : ''}`, health: claim.phase === 'Bound' ? 'healthy' : claim.phase === 'Lost' ? 'degraded' : 'progressing', claims: [claim] };
    }
    case 'Application': {
      const application: ApplicationState = {
        name: String(object.metadata?.name),
        sync: status.sync?.status ?? 'Unknown',
        health: status.health?.status ?? 'Unknown',
        ...(status.sync?.revision ? { revision: String(status.sync.revision) } : {}),
        ...(status.operationState ? { operation: `${status.operationState.phase}${status.operationState.message ? `: ${status.operationState.message}` : ''}` } : {}),
      };
      return {
        summary: `${application.sync}, ${application.health}${application.revision ? ` at ${application.revision.slice(0, 7)}` : ''}`,
        health: application.health === 'Healthy' && application.sync === 'Synced' ? 'healthy' : application.health === 'Degraded' ? 'degraded' : 'progressing',
        application,
      };
    }
    case 'CronJob':
      return { summary: `${spec.suspend ? 'suspended, ' : ''}last run ${status.lastScheduleTime ?? 'never'}` };
    case 'Job':
      return {
        summary: `${status.succeeded ?? 0} succeeded, ${status.failed ?? 0} failed`,
        health: status.failed ? 'degraded' : status.succeeded ? 'healthy' : 'progressing',
      };
    case 'Service':
      return { summary: `${spec.type ?? 'ClusterIP'} ${spec.clusterIP ?? ''}`.trim() };
    default: {
      // A controller's verdict (a SealedSecret's Synced, a CloudNativePG Cluster's Ready), where it gives one.
      const condition = (status.conditions ?? []).find((c: any) => c.type === 'Ready' || c.type === 'Synced');
      if (!condition) return {};
      return {
        summary: `${condition.type} ${condition.status}${condition.message && condition.status !== 'True' ? `: ${condition.message}` : ''}`,
        health: condition.status === 'True' ? 'healthy' : 'degraded',
      };
    }
  }
}

/** A pod's phase, readiness, restarts, node and age. */
export function podState(pod: any, now: number): PodState {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  const containers: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const reason = statuses.map(s => s.state?.waiting?.reason ?? s.state?.terminated?.reason).find(Boolean);
  const created = Date.parse(pod.metadata?.creationTimestamp ?? '');
  return {
    name: String(pod.metadata?.name),
    namespace: String(pod.metadata?.namespace),
    phase: pod.metadata?.deletionTimestamp ? 'Terminating' : pod.status?.phase ?? 'Pending',
    ready: (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    readyContainers: `${statuses.filter(s => s.ready).length}/${containers.length}`,
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    ...(pod.spec?.nodeName ? { node: String(pod.spec.nodeName) } : {}),
    ageSeconds: Number.isNaN(created) ? 0 : Math.max(0, Math.round((now - created) / 1000)),
    ...(reason ? { reason: String(reason) } : {}),
    ...(pod.metadata?.labels?.['cnpg.io/instanceRole'] ? { role: String(pod.metadata.labels['cnpg.io/instanceRole']) } : {}),
    containers,
  };
}

function claimState(claim: any): ClaimState {
  const size = claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage;
  return { name: String(claim.metadata?.name), phase: claim.status?.phase ?? 'Pending', ...(size ? { size: String(size) } : {}) };
}
