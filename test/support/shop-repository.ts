import { Chart } from 'cdk8s';
import { digestOf } from './fixtures';
import {
  ContainerImage, GitOpsEnvironment, GitOpsRepository, GitOpsRepositoryProps, GoWebService, ImageLock, Postgres, PostgresCredentials,
} from '../../src';

/** What differs between the shop's environments. */
export interface ShopSettings { readonly replicas: number }

/** The images the shop stack pins. */
export const SHOP_LOCK = ImageLock.fromDocument({
  version: 1,
  images: {
    api: { repository: 'ghcr.io/acme/api', digest: digestOf('api'), builder: 'ko' },
    postgres: { repository: 'docker.io/library/postgres', digest: digestOf('pg'), builder: 'upstream' },
  },
});

/** The API server of the shop's prod cluster. */
export const SHOP_PROD_SERVER = 'https://prod.k8s.acme.example:6443';

/** staging in the cluster Argo CD runs in, prod on {@link SHOP_PROD_SERVER}. */
export const SHOP_ENVIRONMENTS: Array<GitOpsEnvironment<ShopSettings>> = [
  { name: 'staging', namespace: 'shop-staging', settings: { replicas: 1 } },
  { name: 'prod', namespace: 'shop', server: SHOP_PROD_SERVER, settings: { replicas: 3 } },
];

/** One environment: a web service connected to its Postgres. */
export function shopStack(chart: Chart, env: GitOpsEnvironment<ShopSettings>, lock: ImageLock): void {
  const db = new Postgres(chart, 'shop-db', { image: ContainerImage.fromLock(lock, 'postgres'), credentials: PostgresCredentials.fromExistingSecret('shop-db-login') });
  new GoWebService(chart, 'shop', { image: ContainerImage.fromLock(lock, 'api'), replicas: env.settings.replicas }).connectToPostgres(db);
}

/** A second team's repository, `shop`, with a Helm chart; `overrides` replace any prop. */
export function shopRepository(overrides: Partial<GitOpsRepositoryProps<ShopSettings>> = {}): GitOpsRepository<ShopSettings> {
  return new GitOpsRepository<ShopSettings>({
    name: 'shop',
    repoUrl: 'https://git.acme.example/shop/gitops.git',
    targetRevision: 'release',
    environments: SHOP_ENVIRONMENTS,
    stack: shopStack,
    helmChart: {},
    ...overrides,
  });
}
