import { Chart, Duration } from 'cdk8s';
import { ContainerImage, GitOpsEnvironment, GoWebService, IPostgresDatabase, ImageLock, Postgres, PostgresCluster } from '../src';
import { TodoSettings } from './environments';

/** The todo service and its database in one environment. */
export function buildTodoStack(chart: Chart, environment: GitOpsEnvironment<TodoSettings>, lock: ImageLock): void {
  const env = environment.settings;
  const db = env.databaseEngine === 'cloudnative-pg' ? todoCluster(chart, env, lock) : new Postgres(chart, 'todo-db', {
    image: ContainerImage.fromLock(lock, 'postgres'),
    credentials: env.credentials,
    allowPlaintextCredentials: env.devShortcuts,
    database: 'todo',
    storageSize: env.storageSize,
    resources: env.databaseResources,
    partOf: 'todo',
    ...(env.operations ? {
      backup: { schedule: '17 3 * * *', retentionDays: 14 },
      metrics: { image: ContainerImage.fromLock(lock, 'postgres-exporter') },
    } : {}),
  });

  const web = new GoWebService(chart, 'todo', {
    image: ContainerImage.fromLock(lock, 'todo', env.devShortcuts ? { fallbackRepository: 'ghcr.io/acme/todo', fallbackTag: 'dev' } : {}),
    allowUnpinnedImage: env.devShortcuts,
    replicas: env.replicas,
    autoscaling: env.autoscaling,
    resources: env.appResources,
    env: { LOG_LEVEL: env.logLevel },
    ingress: env.ingress,
    partOf: 'todo',
  });
  web.connectToPostgres(db);
}

/** The lock's entry for CloudNativePG's Postgres image: Postgres with barman-cloud, which archives to object stores. */
const CLUSTER_IMAGE = 'cloudnative-pg-postgresql';

/**
 * The database on CloudNativePG: instances on different nodes, synchronous
 * replication as the environment says, the environment's sealed login. The
 * version comes from the lock's tag (`15.15-bookworm`): the operator needs it.
 */
function todoCluster(chart: Chart, env: TodoSettings, lock: ImageLock): IPostgresDatabase {
  const entry = lock.tryGet(CLUSTER_IMAGE);
  const major = /^[0-9]+/.exec(entry?.tag ?? '')?.[0];
  if (!major) {
    const problem = entry
      ? `its tag "${entry.tag ?? ''}" does not start with its major version, which CloudNativePG needs: record the image's version tag in the lock`
      : 'it is not pinned there: record its repository, digest and version tag in the lock';
    throw new Error(`${chart.node.path}/todo-db: image "${CLUSTER_IMAGE}" of ${lock.source}: ${problem}`);
  }
  return new PostgresCluster(chart, 'todo-db', {
    image: ContainerImage.fromLock(lock, CLUSTER_IMAGE),
    postgresVersion: major,
    instances: env.databaseInstances ?? 3,
    synchronous: env.databaseSynchronous,
    // The web tier's pool keeps its connections: without this, every switchover and rolling
    // update of the database would wait the operator's 180 s for them to go.
    smartShutdownTimeout: Duration.seconds(15),
    database: 'todo',
    credentials: env.credentials,
    allowPlaintextCredentials: env.devShortcuts,
    storageSize: env.storageSize,
    resources: env.databaseResources,
    backup: env.databaseBackup,
    restore: env.databaseRestore,
    ...(env.operations ? { metrics: {} } : {}),
    partOf: 'todo',
  });
}
