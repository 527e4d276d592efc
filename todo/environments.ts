import {
  ComputeResources, GitOpsEnvironment, HorizontalAutoscaling, NetworkPeer, ObjectStoreCredentials, PostgresClusterBackupOptions,
  PostgresClusterRestoreOptions, PostgresCredentials, SealedSecretFile, SynchronousReplication, WebIngressOptions,
} from '../src';

/** What differs between the todo service's environments. */
export interface TodoSettings {
  /** Fixed pod count of the web service (ignored with autoscaling). */
  readonly replicas: number;
  /** Autoscaling of the web service, if any. */
  readonly autoscaling?: HorizontalAutoscaling;
  /** Resources of the web service. */
  readonly appResources: ComputeResources;
  /** Resources of Postgres (of each instance, with CloudNativePG). */
  readonly databaseResources: ComputeResources;
  /**
   * What runs Postgres: one pod of a StatefulSet (`Postgres`), or a
   * CloudNativePG cluster of `databaseInstances` (`PostgresCluster`: a primary
   * and hot standbys with synchronous replication and automated failover;
   * the operator comes with the platform part).
   */
  readonly databaseEngine: 'statefulset' | 'cloudnative-pg';
  /** Instances of the CloudNativePG cluster (ignored with the StatefulSet). */
  readonly databaseInstances?: number;
  /** CloudNativePG only: synchronous replication (needs 2 instances or more). */
  readonly databaseSynchronous?: SynchronousReplication;
  /** CloudNativePG only: continuous backup (WAL archive and base backups) to an object store. */
  readonly databaseBackup?: PostgresClusterBackupOptions;
  /**
   * CloudNativePG only: the database starts from a backup (to a point in
   * time) instead of empty; back it up to another folder than the one it
   * restores from.
   */
  readonly databaseRestore?: PostgresClusterRestoreOptions;
  /** Size of the Postgres data volume. */
  readonly storageSize: string;
  /** The database login. */
  readonly credentials: PostgresCredentials;
  /** Dev only: tags instead of digests, and a plaintext dev Secret. */
  readonly devShortcuts: boolean;
  /** The metrics exporter, and with the StatefulSet the nightly pg_dump. */
  readonly operations: boolean;
  /** LOG_LEVEL of the service. */
  readonly logLevel: 'debug' | 'info';
  /** How the service is reached from outside the cluster, if at all. */
  readonly ingress?: WebIngressOptions;
}

/**
 * Where Argo CD finds this repository. TODO_REPO_URL points the tree at another server without
 * editing it (`npm run demo` serves this repository from a local git daemon).
 */
export const TODO_GIT = {
  repoUrl: process.env.TODO_REPO_URL ?? 'https://github.com/acme/todo-gitops.git',
  targetRevision: 'main',
};

/**
 * Where the sealed files and certificates are: `sealed-secrets/` (what `npm run secrets` writes),
 * or SEALED_SECRETS_DIR, as IMAGES_LOCK_FILE moves the lock (the end-to-end tests seal for their
 * own clusters there).
 */
const SEALED = process.env.SEALED_SECRETS_DIR ?? 'sealed-secrets';

/**
 * prod's backups: WAL archived continuously and a base backup daily, in an S3
 * bucket outside the cluster, so losing the namespace, the volumes or the
 * whole cluster loses at most `archive_timeout` of writes: a WAL segment is
 * archived when it fills (16 MB) or after this long, so a quiet database
 * would lose up to the default's 5 minutes; prod's 1 minute costs at most one
 * mostly empty (compressed) segment a minute in the bucket. The key is
 * sealed for prod (`npm run secrets -- seal --env prod --secret todo-db-backup
 * --key ACCESS_KEY_ID`, then `--key ACCESS_SECRET_KEY`). TODO_BACKUP_ENDPOINT and
 * TODO_BACKUP_BUCKET point the tree at another store without editing it. The Barman Cloud
 * plugin writes them (the platform runs it beside the operator): CloudNativePG 1.31 removes the
 * in-tree barmanObjectStore.
 */
const PROD_BACKUP: PostgresClusterBackupOptions = {
  method: 'plugin',
  objectStore: {
    endpointUrl: process.env.TODO_BACKUP_ENDPOINT ?? 'https://s3.eu-west-1.amazonaws.com',
    destinationPath: `s3://${process.env.TODO_BACKUP_BUCKET ?? 'acme-todo-backups'}/todo-prod`,
    credentials: ObjectStoreCredentials.fromSealedSecret(SealedSecretFile.inFolder(`${SEALED}/prod`, 'todo-db-backup')),
    // S3's addresses are many and change: any address, on the endpoint's port only.
    network: NetworkPeer.ipBlock('0.0.0.0/0'),
  },
  retention: '30d',
  walArchiveTimeout: '1min',
  // 03:17 daily, with robfig/cron's seconds field first.
  schedule: '0 17 3 * * *',
};

const SMALL: ComputeResources = { cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '250m', memoryLimit: '128Mi' };

/** The environments synthesized into dist/, most locked-down last. */
export const TODO_ENVIRONMENTS: Array<GitOpsEnvironment<TodoSettings>> = [
  {
    name: 'dev',
    namespace: 'todo-dev',
    settings: {
      replicas: 1,
      appResources: SMALL,
      databaseResources: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' },
      storageSize: '1Gi',
      databaseEngine: 'statefulset',
      credentials: PostgresCredentials.devOnlyPlaintext({ username: 'todo', password: 'dev-only-not-a-secret' }),
      devShortcuts: true,
      operations: false,
      logLevel: 'debug',
    },
  },
  {
    name: 'staging',
    namespace: 'todo-staging',
    settings: {
      replicas: 2,
      appResources: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '256Mi' },
      databaseResources: { cpuRequest: '250m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '1Gi' },
      storageSize: '5Gi',
      // A primary and a standby; writes go on without the standby, since staging's data may be lost.
      databaseEngine: 'cloudnative-pg',
      databaseInstances: 2,
      databaseSynchronous: { method: 'any', number: 1, dataDurability: 'preferred' },
      // Sealed with staging's certificate by `npm run secrets`; the controller in the cluster opens it.
      credentials: PostgresCredentials.fromSealedSecret(SealedSecretFile.inFolder(`${SEALED}/staging`, 'todo-db-credentials')),
      devShortcuts: false,
      operations: true,
      logLevel: 'info',
      ingress: { host: 'todo.staging.acme.example', ingressClassName: 'nginx', tlsSecretName: 'todo-tls' },
    },
  },
  {
    name: 'prod',
    namespace: 'todo-prod',
    settings: {
      replicas: 3,
      autoscaling: { minReplicas: 3, maxReplicas: 10, targetCpuUtilization: 70 },
      appResources: { cpuRequest: '250m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '512Mi' },
      databaseResources: { cpuRequest: '1', memoryRequest: '2Gi', cpuLimit: '2', memoryLimit: '4Gi' },
      storageSize: '20Gi',
      // Every commit waits for one of two standbys: a failover loses no acknowledged write.
      databaseEngine: 'cloudnative-pg',
      databaseInstances: 3,
      databaseSynchronous: { method: 'any', number: 1, dataDurability: 'required' },
      databaseBackup: PROD_BACKUP,
      credentials: PostgresCredentials.fromSealedSecret(SealedSecretFile.inFolder(`${SEALED}/prod`, 'todo-db-credentials')),
      devShortcuts: false,
      operations: true,
      logLevel: 'info',
      ingress: { host: 'todo.acme.example', ingressClassName: 'nginx', tlsSecretName: 'todo-tls' },
    },
  },
];
