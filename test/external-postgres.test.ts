import { Construct } from 'constructs';
import {
  EnvValue, ExternalPostgres, GoWebService, IPostgresDatabase, NetworkPeer, PostgresCredentials, PostgresLogin, Postgres,
} from '../src';
import { APP_IMAGE, EXISTING_SECRET, PG_IMAGE } from './support/fixtures';
import { SchemaValidator } from './support/schema';
import { only, synthChart } from './support/synth';

const schema = new SchemaValidator();
const RDS = 'billing.abc123.eu-west-1.rds.amazonaws.com';
const env = (objects: any[]) => only(objects, 'Deployment', 'billing').spec.template.spec.containers[0].env;
const policy = (objects: any[]) => only(objects, 'NetworkPolicy', 'billing');

describe('ExternalPostgres: a database this tree does not run', () => {
  const objects = synthChart(chart => {
    const ledger = new ExternalPostgres(chart, 'ledger', {
      host: RDS,
      database: 'ledger',
      credentials: PostgresCredentials.fromExistingSecret('ledger-login', { usernameKey: 'user', passwordKey: 'pass' }),
      network: NetworkPeer.ipBlock('10.20.0.0/16'),
    });
    new GoWebService(chart, 'billing', { image: APP_IMAGE }).connectToPostgres(ledger);
  });

  test('renders no object of its own: only the service', () => {
    expect(objects.map(o => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    expect(objects.some(o => o.kind === 'Secret')).toBe(false);
  });

  test('the service reads host, port, database and the login by Secret reference; sslmode require by default', () => {
    expect(env(objects)).toEqual([
      { name: 'PGHOST', value: RDS },
      { name: 'PGPORT', value: '5432' },
      { name: 'PGDATABASE', value: 'ledger' },
      { name: 'PGUSER', valueFrom: { secretKeyRef: { name: 'ledger-login', key: 'user' } } },
      { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'ledger-login', key: 'pass' } } },
      { name: 'PGSSLMODE', value: 'require' },
    ]);
  });

  test('egress is DNS plus exactly the database range on its port', () => {
    expect(policy(objects).spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy(objects).spec.egress.slice(1)).toEqual([{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432, protocol: 'TCP' }] }]);
  });

  test('no sync wave: the database is not applied by this tree, so the service keeps the default wave', () => {
    for (const o of objects) expect(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBeUndefined();
  });

  test('every object is valid against the Kubernetes 1.27 schema', () => {
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });
});

test('a database in another namespace: egress to its pods there, on its port, with the sslmode asked for', () => {
  const objects = synthChart(chart => {
    const otherTeams = new ExternalPostgres(chart, 'orders-db', {
      host: 'pg-rw.data.svc.cluster.local',
      port: 6432,
      database: 'billing',
      credentials: EXISTING_SECRET,
      network: NetworkPeer.pods({ 'cnpg.io/cluster': 'pg' }, 'data'),
    });
    new GoWebService(chart, 'billing', { image: APP_IMAGE }).connectToPostgres(otherTeams, { sslMode: 'verify-full', envPrefix: 'SHARED_' });
  });
  expect(policy(objects).spec.egress[1]).toEqual({
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } }, podSelector: { matchLabels: { 'cnpg.io/cluster': 'pg' } } }],
    ports: [{ port: 6432, protocol: 'TCP' }],
  });
  expect(env(objects).find((e: any) => e.name === 'SHARED_PGPORT').value).toBe('6432');
  expect(env(objects).find((e: any) => e.name === 'SHARED_PGSSLMODE').value).toBe('verify-full');
  for (const o of objects) expect(schema.errors(o)).toEqual([]);
});

test('a database of the user\'s own implements IPostgresDatabase and is admitted like the built-in one', () => {
  /** A database run by some operator: its policy lives elsewhere, but this one records who asked. */
  class OperatorDatabase extends Construct implements IPostgresDatabase {
    public readonly host = 'orders-rw';
    public readonly port = 5432;
    public readonly databaseName = 'orders';
    public readonly login: PostgresLogin = { secretName: 'orders-app', usernameKey: 'username', passwordKey: 'password' };
    public readonly networkPeer = NetworkPeer.pods({ 'cnpg.io/cluster': 'orders' });
    public readonly syncWave = 3;
    public readonly admitted: string[] = [];
    public allowConnectionsFrom(id: string): void {
      this.admitted.push(id);
    }
  }
  let database: OperatorDatabase | undefined;
  const objects = synthChart(chart => {
    database = new OperatorDatabase(chart, 'orders');
    const web = new GoWebService(chart, 'billing', { image: APP_IMAGE });
    web.connectToPostgres(database);
    web.addEnv('FEATURE_FLAGS', EnvValue.fromValue('fast-checkout'));
  });
  expect(database!.admitted).toEqual(['billing']);
  expect(only(objects, 'Deployment', 'billing').metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('4');
  expect(env(objects).find((e: any) => e.name === 'FEATURE_FLAGS')).toEqual({ name: 'FEATURE_FLAGS', value: 'fast-checkout' });
});

test('the StatefulSet Postgres and an external database side by side, each under its own prefix', () => {
  const objects = synthChart(chart => {
    const local = new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET });
    const remote = new ExternalPostgres(chart, 'ledger', { host: RDS, database: 'ledger', credentials: EXISTING_SECRET, network: NetworkPeer.ipBlock('10.20.0.5/32') });
    const web = new GoWebService(chart, 'billing', { image: APP_IMAGE });
    web.connectToPostgres(local);
    web.connectToPostgres(remote, { envPrefix: 'LEDGER_' });
  });
  expect(policy(objects).spec.egress.map((r: any) => r.to[0])).toEqual([
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
    { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/component': 'database' } } },
    { ipBlock: { cidr: '10.20.0.5/32' } },
  ]);
  expect(only(objects, 'NetworkPolicy', 'db').spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: only(objects, 'Deployment', 'billing').spec.selector.matchLabels } }]);
});
