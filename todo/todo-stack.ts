import { Chart } from 'cdk8s';
import { ContainerImage, GitOpsEnvironment, GoWebService, ImageLock, Postgres } from '../src';
import { TodoSettings } from './environments';

/** The todo service and its database in one environment. */
export function buildTodoStack(chart: Chart, environment: GitOpsEnvironment<TodoSettings>, lock: ImageLock): void {
  const env = environment.settings;
  const db = new Postgres(chart, 'todo-db', {
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
