import { Chart } from 'cdk8s';
import {
  ContainerImage, GitOpsEnvironment, GitOpsRepository, GoWebService, ImageLock, Postgres, PostgresCredentials,
} from '@acme/cdk8s-go-postgres';

interface BillingSettings {
  readonly replicas: number;
  readonly storageSize: string;
  readonly host: string;
}

/** One environment: an API and a worker, a ledger and an invoices database. */
function billingStack(chart: Chart, env: GitOpsEnvironment<BillingSettings>, lock: ImageLock): void {
  const database = (name: string) => new Postgres(chart, name, {
    image: ContainerImage.fromLock(lock, 'postgres'),
    credentials: PostgresCredentials.fromExistingSecret(`${name}-login`),
    storageSize: env.settings.storageSize,
    backup: { schedule: '0 2 * * *' },
  });
  const ledger = database('ledger-db');
  const invoices = database('invoices-db');

  const api = new GoWebService(chart, 'billing-api', {
    image: ContainerImage.fromLock(lock, 'billing-api'),
    replicas: env.settings.replicas,
    ingress: { host: env.settings.host, tlsSecretName: 'billing-tls' },
  });
  api.connectToPostgres(ledger); // PGHOST, PGUSER, ...
  api.connectToPostgres(invoices, { envPrefix: 'INVOICES_' }); // INVOICES_PGHOST, ...

  const worker = new GoWebService(chart, 'billing-worker', { image: ContainerImage.fromLock(lock, 'billing-worker'), replicas: 1 });
  worker.connectToPostgres(invoices);
}

export const BILLING = new GitOpsRepository<BillingSettings>({
  name: 'billing',
  repoUrl: 'https://github.com/acme/billing-gitops.git',
  environments: [
    { name: 'staging', namespace: 'billing-staging', settings: { replicas: 2, storageSize: '5Gi', host: 'billing.staging.acme.example' } },
    { name: 'prod', namespace: 'billing', settings: { replicas: 3, storageSize: '50Gi', host: 'billing.acme.example' } },
  ],
  stack: billingStack,
  helmChart: {},
});
