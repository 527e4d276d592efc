import { ManifestTree } from './manifest-tree';
import { describeObject, ObjectChange } from './object-diff';
import { selectedWorkloads } from './topology';
import { DEV_ONLY_LABEL } from '../common/labels';
import { SEALED_WITH_ANNOTATION } from '../sealed-secrets/sealed-secret-file';
import { podSpecsOf, restrictedViolations } from '../security/pod-security-check';

/** A change that hurts when Argo CD applies it. */
export interface Danger {
  /** The rule that found it, e.g. `storage-shrink`. */
  readonly rule: DangerRule;
  /** The tree directory (environment) it is in. */
  readonly directory: string;
  /** `Kind namespace/name` of the object. */
  readonly object: string;
  /** What is wrong. */
  readonly reason: string;
  /** What to do instead. */
  readonly advice: string;
}

/** The danger rules. */
export type DangerRule =
  | 'prune-deletes-data' | 'immutable-field' | 'storage-shrink' | 'plaintext-credentials'
  | 'image-unpinned' | 'pod-security' | 'network-widened' | 'destination-changed'
  | 'sealed-secret-removed' | 'sealing-key-lost'
  | 'standby-removed' | 'synchronous-replication-off' | 'backup-removed';

/** Fields the API server refuses to update, per kind: Argo CD can only apply them by replacing the object. */
const IMMUTABLE: Record<string, readonly string[]> = {
  StatefulSet: ['spec.selector', 'spec.volumeClaimTemplates', 'spec.serviceName', 'spec.podManagementPolicy'],
  Deployment: ['spec.selector'],
  DaemonSet: ['spec.selector'],
  ReplicaSet: ['spec.selector'],
  Job: ['spec.selector', 'spec.template', 'spec.completionMode'],
  Service: ['spec.clusterIP', 'spec.clusterIPs'],
  PersistentVolumeClaim: ['spec.accessModes', 'spec.storageClassName', 'spec.volumeName', 'spec.volumeMode', 'spec.selector'],
  RoleBinding: ['roleRef'],
  ClusterRoleBinding: ['roleRef'],
};

/** Kinds whose deletion deletes data or everything inside. */
const DATA_KINDS = ['StatefulSet', 'PersistentVolumeClaim', 'Namespace'];

/** A CloudNativePG `Cluster`: deleting it deletes its instances' volumes. */
const isPostgresCluster = (c: { kind: string; group: string }) => c.kind === 'Cluster' && c.group === 'postgresql.cnpg.io';

/**
 * Finds the changes that hurt only when Argo CD applies them. `head` and
 * `base` are the whole trees, for the Applications that decide whether a
 * directory is pruned.
 */
export function findDangers(changes: readonly ObjectChange[], base: ManifestTree, head: ManifestTree): Danger[] {
  const dangers: Danger[] = [];
  const pruned = prunedDirectories(base, head);
  const found = (c: ObjectChange, rule: DangerRule, reason: string, advice: string) =>
    dangers.push({ rule, directory: c.directory, object: describeObject(c), reason, advice });

  for (const c of changes) {
    if (c.change === 'removed' && (DATA_KINDS.includes(c.kind) || isPostgresCluster(c)) && pruned.has(c.directory) && !pruneDisabled(c.before)) {
      found(c, 'prune-deletes-data', `deleting a ${c.kind} whose Application prunes: Argo CD deletes it${c.kind === 'Namespace' ? ' with everything in it' : ', and the data it holds goes with it'}`,
        'keep the object, or first annotate it argocd.argoproj.io/sync-options: Prune=false and move the data, then delete it by hand');
    }
    if (c.change === 'changed') {
      for (const field of IMMUTABLE[c.kind] ?? []) {
        const changed = c.fields.filter(f => f.path === field || f.path.startsWith(`${field}.`) || f.path.startsWith(`${field}[`));
        if (changed.length > 0) {
          found(c, 'immutable-field', `${field} is immutable (${changed.map(f => f.path).join(', ')} changed): the API server refuses the update, so the sync fails until the object is replaced`,
            c.kind === 'StatefulSet' || c.kind === 'PersistentVolumeClaim'
              ? 'keep the field; to change it, create a new object beside the old one, move the data, then remove the old one'
              : 'keep the field, or let Argo CD recreate the object (sync option Replace=true) at a time its downtime is acceptable');
        }
      }
      for (const [claim, before, after] of storageSizes(c)) {
        if (after < before) {
          found(c, 'storage-shrink', `storage of ${claim} shrinks from ${bytes(before)} to ${bytes(after)}: volumes cannot shrink`, 'keep the size; to shrink, create a smaller volume and copy the data over');
        }
      }
      for (const image of unpinnedImages(c.before, c.after)) {
        found(c, 'image-unpinned', `image ${image} loses its digest: a tag can move to other bytes under a running workload`, 'pin it by digest: record the digest in the image lock (`cdk8s-gitops build-image` builds, pushes and records it)');
      }
      for (const v of newViolations(c.before, c.after)) {
        found(c, 'pod-security', `the pod no longer meets the "restricted" Pod Security Standard (${v}): the namespace refuses the pods`, 'restore the security context the constructs render (restrictedPodSecurityContext, restrictedContainerSecurityContext)');
      }
      for (const v of plaintextCredentials(c.before, c.after)) {
        found(c, 'plaintext-credentials', `${v} moves from a Secret reference to a literal value in git`, 'keep reading it from a Secret created outside git (PostgresCredentials.fromExistingSecret, secretEnv)');
      }
      if (c.kind === 'NetworkPolicy' && c.fields.some(f => f.path.startsWith('spec.podSelector'))) {
        // A policy for other pods: its rules are theirs, not a change of the old pods' rules.
        const now = selectedWorkloads(head, c.directory, c.namespace, c.after.spec?.podSelector);
        if ([...selectedWorkloads(head, c.directory, c.namespace, c.before.spec?.podSelector)].some(w => !now.has(w))) {
          found(c, 'network-widened', 'the NetworkPolicy no longer selects pods it selected, which remain: unless another policy selects them, they admit every connection',
            'keep a NetworkPolicy for the pods that remain');
        }
      } else {
        for (const w of widenedRules(c)) {
          found(c, 'network-widened', `the NetworkPolicy admits more than before: ${w}`, 'admit only the peers and ports that need it (NetworkPeer, httpClients, scrapers)');
        }
      }
      if (c.kind === 'Application' && c.fields.some(f => f.path.startsWith('spec.destination'))) {
        found(c, 'destination-changed', `the Application now deploys to ${JSON.stringify(c.after.spec?.destination)} instead of ${JSON.stringify(c.before.spec?.destination)}: everything is created anew there and pruned from the old destination`,
          'add a new environment for the new destination, move traffic and data, then remove the old one');
      }
    }
    // Deleted with its pods (a workload replaced by another, with its own policy), it widens nothing.
    if (c.change === 'removed' && c.kind === 'NetworkPolicy' && selectedWorkloads(head, c.directory, c.namespace, c.before.spec?.podSelector).size > 0) {
      found(c, 'network-widened', 'the NetworkPolicy is deleted: its pods admit every connection', 'keep a NetworkPolicy for the pods');
    }
    if (c.change === 'added' && c.kind === 'Secret' && c.after.metadata?.labels?.[DEV_ONLY_LABEL] !== 'true' && (c.after.data || c.after.stringData)) {
      found(c, 'plaintext-credentials', 'a Secret with its values is committed to git', 'create the Secret outside git (sealed-secrets, external-secrets, or by hand) and reference it');
    }
  }
  dangers.push(...movedNamespaces(changes));
  dangers.push(...sealedSecretDangers(changes, head));
  dangers.push(...postgresClusterDangers(changes));
  return dangers;
}

/** Directories whose Application syncs with automated prune, by the Application's source path. */
function prunedDirectories(base: ManifestTree, head: ManifestTree): Set<string> {
  const dirs = new Set<string>();
  for (const { object } of [...base.objects, ...head.objects]) {
    if (object.kind === 'Application' && object.spec?.syncPolicy?.automated?.prune === true && typeof object.spec.source?.path === 'string') {
      dirs.add(object.spec.source.path.split('/').pop());
    }
  }
  return dirs;
}

function pruneDisabled(obj: any): boolean {
  return /(^|,)\s*Prune=false\s*(,|$)/.test(obj.metadata?.annotations?.['argocd.argoproj.io/sync-options'] ?? '');
}

const UNITS: Record<string, number> = {
  '': 1,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
  'm': 1e-3,
};

/** Bytes of a Kubernetes quantity such as `20Gi`, or NaN. */
export function quantityBytes(q: unknown): number {
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/.exec(String(q));
  return m ? Number(m[1]) * UNITS[m[2] ?? ''] : NaN;
}

function bytes(n: number): string {
  const unit = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'].find(u => n >= UNITS[u] && Number.isInteger(n / UNITS[u]));
  return unit ? `${n / UNITS[unit]}${unit}` : `${n} bytes`;
}

/** [claim, bytes before, bytes after] of each storage request of a PVC, a StatefulSet's claim templates or a CloudNativePG Cluster's volumes. */
function storageSizes(c: ObjectChange): Array<[string, number, number]> {
  const claims = (obj: any): Array<[string, unknown]> => {
    if (c.kind === 'PersistentVolumeClaim') return [[obj.metadata?.name, obj.spec?.resources?.requests?.storage]];
    if (isPostgresCluster(c)) return [['spec.storage', obj.spec?.storage?.size], ['spec.walStorage', obj.spec?.walStorage?.size]];
    return (obj.spec?.volumeClaimTemplates ?? []).map((t: any) => [t.metadata?.name, t.spec?.resources?.requests?.storage]);
  };
  const before = new Map(claims(c.before));
  return claims(c.after)
    .filter(([name]) => before.has(name))
    .map(([name, size]): [string, number, number] => [name, quantityBytes(before.get(name)), quantityBytes(size)])
    .filter(([, b, a]) => !Number.isNaN(b) && !Number.isNaN(a));
}

function containers(obj: any): Map<string, any> {
  return new Map(podSpecsOf(obj).flatMap(p => [...(p.initContainers ?? []), ...(p.containers ?? [])]).map(c => [c.name, c]));
}

function unpinnedImages(before: any, after: any): string[] {
  const was = containers(before);
  const pinned = (image: unknown) => String(image ?? '').includes('@sha256:');
  return [...containers(after)].filter(([name, c]) => pinned(was.get(name)?.image) && !pinned(c.image)).map(([, c]) => c.image);
}

function newViolations(before: any, after: any): string[] {
  const old = new Set(podSpecsOf(before).flatMap(restrictedViolations));
  return podSpecsOf(after).flatMap(restrictedViolations).filter(v => !old.has(v));
}

function plaintextCredentials(before: any, after: any): string[] {
  const was = containers(before);
  const found: string[] = [];
  for (const [name, c] of containers(after)) {
    const fromSecret = new Set((was.get(name)?.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name));
    for (const e of c.env ?? []) if (fromSecret.has(e.name) && e.value !== undefined) found.push(`container ${name}: ${e.name}`);
  }
  return found;
}

/** One admitted (peer, port) pair of a policy direction; '*' is "any". */
type Allowance = { readonly peer: string; readonly port: string };

function allowances(policy: any, direction: 'ingress' | 'egress'): Allowance[] | 'all' {
  const types: string[] = policy?.spec?.policyTypes ?? (direction === 'ingress' ? ['Ingress'] : []);
  if (!types.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) return 'all';
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  return (policy.spec?.[direction] ?? []).flatMap((rule: any) => {
    const peers: string[] = rule[peersKey]?.length ? rule[peersKey].map((p: any) => JSON.stringify(p)) : ['*'];
    const ports: string[] = rule.ports?.length ? rule.ports.map((p: any) => `${p.port ?? '*'}/${p.protocol ?? 'TCP'}`) : ['*'];
    return peers.flatMap(peer => ports.map(port => ({ peer, port })));
  });
}

function widenedRules(c: ObjectChange): string[] {
  if (c.kind !== 'NetworkPolicy') return [];
  const widened: string[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    const before = allowances(c.before, direction);
    const after = allowances(c.after, direction);
    if (before === 'all') continue;
    if (after === 'all') {
      widened.push(`${direction} is no longer restricted`);
      continue;
    }
    const covered = (a: Allowance) => before.some(b => (b.peer === '*' || b.peer === a.peer) && (b.port === '*' || b.port === a.port));
    for (const a of after.filter(x => !covered(x))) widened.push(`${direction} ${a.peer === '*' ? 'from/to anywhere' : a.peer} on port ${a.port === '*' ? 'any' : a.port}`);
  }
  return widened;
}

/** An object removed from one namespace and added in another, in the same directory. */
function movedNamespaces(changes: readonly ObjectChange[]): Danger[] {
  const added = changes.filter(c => c.change === 'added');
  return changes
    .filter(c => c.change === 'removed' && c.namespace)
    .flatMap(r => added.filter(a => a.directory === r.directory && a.kind === r.kind && a.name === r.name && a.namespace !== undefined
      && a.namespace !== r.namespace)
      .map((a): Danger => ({
        rule: 'destination-changed',
        directory: r.directory,
        object: describeObject(r),
        reason: `moves from namespace ${r.namespace} to ${a.namespace}: Argo CD creates it anew there and prunes the old one, with its data`,
        advice: 'keep the namespace; to move, deploy the new namespace as its own environment first, then retire the old one',
      })));
}

const isSealedSecret = (c: { kind: string; group: string }) => c.kind === 'SealedSecret' && c.group === 'bitnami.com';

/** Names of the Secrets the objects of `directory` use: pods (env, envFrom, volumes, pull secrets) and Ingress TLS. */
function usedSecrets(head: ManifestTree, directory: string): Set<string> {
  const used = new Set<string>();
  for (const { object } of head.objects.filter(o => o.directory === directory)) {
    JSON.stringify(podSpecsOf(object), (k, v) => {
      if ((k === 'secretKeyRef' || k === 'secretRef') && typeof v?.name === 'string') used.add(v.name);
      if (k === 'secret' && typeof v?.secretName === 'string') used.add(v.secretName);
      if (k === 'secret' && typeof v?.name === 'string') used.add(v.name);
      if (k === 'imagePullSecrets' && Array.isArray(v)) v.forEach((s: any) => s?.name && used.add(s.name));
      return v;
    });
    if (object.kind === 'Ingress') for (const t of object.spec?.tls ?? []) if (t.secretName) used.add(t.secretName);
  }
  return used;
}

/** The Sealed Secrets controller's key prefix (its `--key-prefix`, default sealed-secrets-key), if `obj` is its Deployment. */
function controllerKeyPrefix(obj: any): string | undefined {
  const container = (obj?.spec?.template?.spec?.containers ?? []).find((c: any) => [...(c.command ?? []), ...(c.args ?? [])].some((a: string) => /(^|\/)controller$/.test(a))
    && /sealed-secrets/.test(String(c.image ?? '') + String(obj.metadata?.name ?? '')));
  if (!container) return undefined;
  const flag = [...(container.command ?? []), ...(container.args ?? [])].find((a: string) => a.startsWith('--key-prefix='));
  return flag ? flag.slice('--key-prefix='.length) : 'sealed-secrets-key';
}

/**
 * Sealed Secrets: a SealedSecret deleted while the environment still uses its
 * Secret (prune deletes the Secret the controller made with it, and the pods
 * fail to start); and changes that leave sealed values without the key that
 * opens them: the controller moved to another namespace or key prefix (it no
 * longer finds its keys and makes a new one), or a SealedSecret that claims
 * another key while its sealed values did not change (they are still sealed
 * with the old one).
 */
function sealedSecretDangers(changes: readonly ObjectChange[], head: ManifestTree): Danger[] {
  const dangers: Danger[] = [];
  const danger = (c: ObjectChange, rule: DangerRule, reason: string, advice: string) =>
    dangers.push({ rule, directory: c.directory, object: describeObject(c), reason, advice });
  const definedInHead = (directory: string, name: string) => head.objects.some(o => o.directory === directory
    && (o.object.kind === 'Secret' || o.object.kind === 'SealedSecret') && o.object.metadata?.name === name);
  for (const c of changes) {
    if (c.change === 'removed' && isSealedSecret(c) && usedSecrets(head, c.directory).has(c.name) && !definedInHead(c.directory, c.name)) {
      danger(c, 'sealed-secret-removed', `the SealedSecret is deleted while ${c.directory} still uses the Secret ${c.name}: the controller's Secret goes with it (it is owned by the SealedSecret) and the pods that read it cannot start`,
        'keep the sealed file and its use, or remove the references to the Secret in the same change');
    }
    if (c.change === 'changed' && isSealedSecret(c)) {
      const was = c.before.metadata?.annotations?.[SEALED_WITH_ANNOTATION];
      const now = c.after.metadata?.annotations?.[SEALED_WITH_ANNOTATION];
      if (was !== now && JSON.stringify(c.before.spec?.encryptedData) === JSON.stringify(c.after.spec?.encryptedData)) {
        danger(c, 'sealing-key-lost', `the SealedSecret now claims the key ${now} instead of ${was}, but its sealed values did not change: they are still sealed with ${was}, and a controller holding only ${now} cannot open them`,
          "re-encrypt the file with 'cdk8s-gitops secrets reencrypt', which has the controller seal it again with its newest key, instead of editing the recorded key");
      }
    }
    if (c.change === 'changed' && c.kind === 'Deployment') {
      const was = controllerKeyPrefix(c.before);
      const now = controllerKeyPrefix(c.after);
      if (was !== undefined && now !== undefined && was !== now) {
        danger(c, 'sealing-key-lost', `the Sealed Secrets controller's key prefix changes from ${was} to ${now}: it no longer finds its keys, makes a new one, and every committed sealed file stays sealed`,
          `keep --key-prefix=${was}; to change it, copy the key Secrets to the new name first`);
      }
    }
  }
  for (const moved of movedNamespaces(changes).filter(d => d.object.startsWith('Deployment '))) {
    const removed = changes.find(c => c.change === 'removed' && c.kind === 'Deployment' && describeObject(c) === moved.object);
    if (removed && controllerKeyPrefix(removed.before) !== undefined) {
      dangers.push({
        ...moved,
        rule: 'sealing-key-lost',
        reason: 'the Sealed Secrets controller moves to another namespace: its keys stay behind, so it makes a new one and every committed sealed file stays sealed',
        advice: 'keep its namespace; to move it, copy the key Secrets (label sealedsecrets.bitnami.com/sealed-secrets-key) into the new namespace first',
      });
    }
  }
  return dangers;
}

/**
 * CloudNativePG Clusters: fewer instances where there was a standby (the
 * operator deletes the removed instances with their volumes, and with one
 * left a failover has nothing to promote), synchronous replication switched
 * off or weakened (a failover may then lose acknowledged writes), and the
 * backup removed (WAL archiving stops: no point-in-time restore after it), in-tree or the
 * plugin's: its WAL archiver or its ObjectStore.
 */
/** Whether a Cluster archives WAL: in-tree, or through an enabled WAL-archiver plugin (the Barman Cloud plugin). */
function archives(cluster: any): boolean {
  return Boolean(cluster.spec?.backup?.barmanObjectStore)
    || (cluster.spec?.plugins ?? []).some((p: any) => p.isWALArchiver === true && p.enabled !== false);
}

function postgresClusterDangers(changes: readonly ObjectChange[]): Danger[] {
  const dangers: Danger[] = [];
  const danger = (c: ObjectChange, rule: DangerRule, reason: string, advice: string) =>
    dangers.push({ rule, directory: c.directory, object: describeObject(c), reason, advice });
  for (const c of changes.filter(x => x.change === 'changed' && isPostgresCluster(x))) {
    const was = Number(c.before.spec?.instances ?? 1);
    const now = Number(c.after.spec?.instances ?? 1);
    if (was >= 2 && now < was) {
      danger(c, 'standby-removed', `instances drop from ${was} to ${now}: the operator deletes ${was - now} instance(s) with their volumes`
        + (now < 2 ? ', and with no standby left the next node failure is an outage with nothing to fail over to' : ''),
      'keep the instances; to scale down, make sure the primary keeps a standby (and that synchronous replication still has its standbys)');
    }
    const sync = (obj: any) => obj.spec?.postgresql?.synchronous;
    if (sync(c.before) && !sync(c.after)) {
      danger(c, 'synchronous-replication-off', 'synchronous replication is switched off: commits no longer wait for a standby, so a failover can lose writes already acknowledged to clients',
        'keep spec.postgresql.synchronous; if writes must go on without a standby, set dataDurability: preferred instead');
    } else if (sync(c.before) && sync(c.after)) {
      const weaker = [
        Number(sync(c.after).number) < Number(sync(c.before).number) ? `number ${sync(c.before).number} -> ${sync(c.after).number}` : undefined,
        (sync(c.before).dataDurability ?? 'required') === 'required' && sync(c.after).dataDurability === 'preferred' ? 'dataDurability required -> preferred' : undefined,
      ].filter(Boolean);
      if (weaker.length > 0) {
        danger(c, 'synchronous-replication-off', `synchronous replication is weakened (${weaker.join(', ')}): fewer standbys hold each acknowledged write, so a failover can lose some`,
          'keep the synchronous settings, unless losing acknowledged writes on failover is acceptable here');
      }
    }
    if (archives(c.before) && !archives(c.after)) {
      danger(c, 'backup-removed', 'the backup to the object store is removed: WAL archiving stops, so nothing written from now on can be restored if the cluster or its volumes are lost',
        'keep spec.backup (or the Barman Cloud plugin as WAL archiver in spec.plugins); to move the backups, point them at the new object store (and a new destinationPath) in the same change');
    }
  }
  // The plugin's ObjectStore removed while its Cluster stays: the plugin has nowhere to archive.
  const removedIn = new Set(changes.filter(x => x.change === 'removed' && isPostgresCluster(x)).map(x => `${x.directory}|${x.namespace}`));
  for (const c of changes.filter(x => x.change === 'removed' && x.kind === 'ObjectStore' && x.group === 'barmancloud.cnpg.io')) {
    if (removedIn.has(`${c.directory}|${c.namespace}`)) continue;
    danger(c, 'backup-removed', 'the Barman Cloud plugin\'s ObjectStore is removed: a Cluster that archives through it stops archiving WAL and taking base backups',
      'keep the ObjectStore while a Cluster names it in spec.plugins; to move the backups, change its configuration instead');
  }
  // A ScheduledBackup removed with its Cluster is part of the Cluster's deletion, found above.
  const removedClusters = new Set(changes.filter(x => x.change === 'removed' && isPostgresCluster(x)).map(x => `${x.directory}|${x.namespace}|${x.name}`));
  for (const c of changes.filter(x => x.change === 'removed' && x.kind === 'ScheduledBackup' && x.group === 'postgresql.cnpg.io')) {
    if (removedClusters.has(`${c.directory}|${c.namespace}|${c.before.spec?.cluster?.name}`)) continue;
    danger(c, 'backup-removed', 'the ScheduledBackup is removed: no new base backups are taken, so a restore must replay ever more WAL from the last one',
      'keep the ScheduledBackup, or replace it in the same change');
  }
  return dangers;
}
