import { podSpecsOf } from '../security/pod-security-check';

/** Suffixes of the Secrets CloudNativePG makes for a Cluster `<name>`. */
const CLOUDNATIVE_PG_SECRETS = ['app', 'superuser', 'ca', 'server', 'replication'];

/**
 * Names of the Secrets that the pods of `objects` use but `objects` do not
 * define as a Secret or SealedSecret: the ones created outside git (by hand
 * or external-secrets), which must exist before the pods can start; not the
 * ones an operator in the tree makes (CloudNativePG's `<cluster>-app`). Sorted.
 * Looks at environment variables, `envFrom`, secret and projected volumes,
 * and image pull secrets of pods, and at what a CloudNativePG Cluster reads
 * itself: its login and the object stores' access keys.
 */
export function outOfBandSecrets(objects: ReadonlyArray<any>): string[] {
  const used = new Set<string>();
  for (const pod of objects.flatMap(podSpecsOf)) {
    for (const c of [...pod.initContainers ?? [], ...pod.containers ?? []]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) used.add(e.valueFrom.secretKeyRef.name);
      for (const e of c.envFrom ?? []) if (e.secretRef?.name) used.add(e.secretRef.name);
    }
    for (const v of pod.volumes ?? []) {
      if (v.secret?.secretName) used.add(v.secret.secretName);
      for (const s of v.projected?.sources ?? []) if (s.secret?.name) used.add(s.secret.name);
    }
    for (const s of pod.imagePullSecrets ?? []) if (s.name) used.add(s.name);
  }
  for (const o of objects.filter(isCloudNativePgCluster)) {
    for (const name of clusterSecretNames(o)) used.add(name);
  }
  for (const o of objects) {
    // A SealedSecret is a Secret in git: the controller creates it from the sealed file.
    if (o.kind === 'Secret' || (o.kind === 'SealedSecret' && o.apiVersion?.startsWith('bitnami.com/'))) used.delete(o.metadata?.name);
    // CloudNativePG makes a Cluster's Secrets itself: the login, its CA and server certificates.
    if (isCloudNativePgCluster(o)) {
      for (const suffix of CLOUDNATIVE_PG_SECRETS) used.delete(`${o.metadata?.name}-${suffix}`);
    }
  }
  return [...used].sort();
}

function isCloudNativePgCluster(o: any): boolean {
  return o.kind === 'Cluster' && o.apiVersion?.startsWith('postgresql.cnpg.io/');
}

/** The Secrets a CloudNativePG Cluster reads: the bootstrap login, and the S3 keys of its backup and of the backups it restores. */
function clusterSecretNames(cluster: any): string[] {
  const spec = cluster.spec ?? {};
  const stores = [spec.backup?.barmanObjectStore, ...(spec.externalClusters ?? []).map((c: any) => c.barmanObjectStore)];
  return [
    spec.bootstrap?.initdb?.secret?.name,
    spec.bootstrap?.recovery?.secret?.name,
    ...stores.flatMap((s: any) => [s?.s3Credentials?.accessKeyId?.name, s?.s3Credentials?.secretAccessKey?.name]),
  ].filter((n): n is string => typeof n === 'string');
}
