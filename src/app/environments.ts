import { ComputeResources, HorizontalAutoscaling, PostgresCredentials } from '..';

/** Settings that differ between environments. */
export interface EnvironmentConfig {
  /** Environment name; also the directory under dist/. */
  readonly name: string;
  /** Namespace everything is deployed to. */
  readonly namespace: string;
  /** Fixed pod count of the web service (ignored with autoscaling). */
  readonly replicas: number;
  /** Autoscaling of the web service, if any. */
  readonly autoscaling?: HorizontalAutoscaling;
  /** Resources of the web service. */
  readonly appResources: ComputeResources;
  /** Resources of Postgres. */
  readonly databaseResources: ComputeResources;
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
}

/** Where Argo CD finds this repository. */
export const GITOPS = {
  repoUrl: 'https://github.com/acme/todo-gitops.git',
  targetRevision: 'main',
  argoCdNamespace: 'argocd',
  /** dist/ is laid out as <env>/, apps/ (the Applications) and bootstrap/ (the root app). */
  distPath: 'dist',
};

const SMALL: ComputeResources = { cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '250m', memoryLimit: '128Mi' };

/** The environments synthesized into dist/. */
export const ENVIRONMENTS: EnvironmentConfig[] = [
  {
    name: 'dev',
    namespace: 'todo-dev',
    replicas: 1,
    appResources: SMALL,
    databaseResources: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' },
    storageSize: '1Gi',
    credentials: PostgresCredentials.devOnlyPlaintext({ username: 'todo', password: 'dev-only-not-a-secret' }),
    devShortcuts: true,
    operations: false,
    logLevel: 'debug',
  },
  {
    name: 'staging',
    namespace: 'todo-staging',
    replicas: 2,
    appResources: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '256Mi' },
    databaseResources: { cpuRequest: '250m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '1Gi' },
    storageSize: '5Gi',
    credentials: PostgresCredentials.fromExistingSecret('todo-db-credentials'),
    devShortcuts: false,
    operations: true,
    logLevel: 'info',
  },
  {
    name: 'prod',
    namespace: 'todo-prod',
    replicas: 3,
    autoscaling: { minReplicas: 3, maxReplicas: 10, targetCpuUtilization: 70 },
    appResources: { cpuRequest: '250m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '512Mi' },
    databaseResources: { cpuRequest: '1', memoryRequest: '2Gi', cpuLimit: '2', memoryLimit: '4Gi' },
    storageSize: '20Gi',
    credentials: PostgresCredentials.fromExistingSecret('todo-db-credentials'),
    devShortcuts: false,
    operations: true,
    logLevel: 'info',
  },
];
