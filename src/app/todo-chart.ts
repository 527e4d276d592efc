import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './environments';
import { ContainerImage, GoWebService, ImageLock, Postgres } from '..';

/** Props of {@link TodoChart}. */
export interface TodoChartProps {
  /** The environment's settings. */
  readonly environment: EnvironmentConfig;
  /** Image digests recorded by the build. */
  readonly lock: ImageLock;
}

/** The todo service and its database for one environment. */
export class TodoChart extends Chart {
  constructor(scope: Construct, id: string, props: TodoChartProps) {
    const env = props.environment;
    super(scope, id, { namespace: env.namespace, labels: { 'acme.io/environment': env.name }, disableResourceNameHashes: true });

    const db = new Postgres(this, 'todo-db', {
      image: ContainerImage.fromLock(props.lock, 'postgres'),
      credentials: env.credentials,
      allowPlaintextCredentials: env.devShortcuts,
      database: 'todo',
      storageSize: env.storageSize,
      resources: env.databaseResources,
      partOf: 'todo',
      ...(env.operations ? {
        backup: { schedule: '17 3 * * *', retentionDays: 14 },
        metrics: { image: ContainerImage.fromLock(props.lock, 'postgres-exporter') },
      } : {}),
    });

    const web = new GoWebService(this, 'todo', {
      image: ContainerImage.fromLock(props.lock, 'todo', env.devShortcuts ? { fallbackRepository: 'ghcr.io/acme/todo', fallbackTag: 'dev' } : {}),
      allowUnpinnedImage: env.devShortcuts,
      replicas: env.replicas,
      autoscaling: env.autoscaling,
      resources: env.appResources,
      env: { LOG_LEVEL: env.logLevel },
      partOf: 'todo',
    });
    web.connectToPostgres(db);
  }
}
