import {
  ComputeResources, GitOpsEnvironment, HorizontalAutoscaling, PostgresClusterBackupOptions, PostgresClusterRestoreOptions, PostgresCredentials,
  SealedSecretFile, WebIngressOptions,
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
  /** Nightly pg_dump and the metrics exporter. */
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
      databaseEngine: 'statefulset',
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
      databaseEngine: 'statefulset',
      credentials: PostgresCredentials.fromSealedSecret(SealedSecretFile.inFolder(`${SEALED}/prod`, 'todo-db-credentials')),
      devShortcuts: false,
      operations: true,
      logLevel: 'info',
      ingress: { host: 'todo.acme.example', ingressClassName: 'nginx', tlsSecretName: 'todo-tls' },
    },
  },
];
