import { App, Chart } from 'cdk8s';
import {
  ArgoCdApplication, ContainerImage, GoWebService, ImageLock, Postgres, PostgresCredentials,
} from '@acme/cdk8s-go-postgres';

export function buildBilling(app: App, lock: ImageLock): Chart {
  const chart = new Chart(app, 'billing', { namespace: 'billing', disableResourceNameHashes: true });

  const db = new Postgres(chart, 'billing-db', {
    image: ContainerImage.fromLock(lock, 'postgres'),
    credentials: PostgresCredentials.fromExistingSecret('billing-db-login'),
    storageSize: '10Gi',
    backup: { schedule: '0 2 * * *' },
  });

  const api = new GoWebService(chart, 'billing-api', {
    image: ContainerImage.fromLock(lock, 'billing-api'),
    replicas: 3,
    env: { LOG_LEVEL: 'info' },
  });
  api.connectToPostgres(db);

  new ArgoCdApplication(chart, 'billing-prod', {
    repoUrl: 'https://github.com/acme/billing-gitops.git',
    path: 'dist/prod',
    destinationNamespace: 'billing',
  });
  return chart;
}
