import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageLock } from '../src';
import { BILLING } from './example/billing-repository';
import { digestOf } from './support/fixtures';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { SchemaValidator } from './support/schema';
import { container, listFiles, readManifests } from './support/synth';

const EXAMPLE = path.join(__dirname, 'example', 'billing-repository.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'library-example-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const lock = ImageLock.fromDocument({
  version: 1,
  images: {
    'postgres': { repository: 'docker.io/library/postgres', digest: digestOf('pg'), builder: 'upstream' },
    'billing-api': { repository: 'ghcr.io/acme/billing-api', digest: digestOf('api'), builder: 'ko' },
    'billing-worker': { repository: 'ghcr.io/acme/billing-worker', digest: digestOf('worker'), builder: 'ko' },
  },
});
const outdir = path.join(tmp, 'dist');
const helmDir = path.join(tmp, 'helm');
BILLING.synth({ outdir, helmDir, lock });
const manifests = readManifests(outdir);
const prod = manifests.filter(m => m.file.startsWith('prod/')).map(m => m.object);
const find = (kind: string, name: string) => prod.find(o => o.kind === kind && o.metadata.name === name);

test('the README shows the second team\'s repository verbatim', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf-8');
  expect(readme).toContain(fs.readFileSync(EXAMPLE, 'utf-8').trim());
});

test('it writes both environments, the Argo CD tree and a Helm chart', () => {
  expect(listFiles(outdir).map(f => path.relative(outdir, f))).toEqual([
    'apps/applications.k8s.yaml', 'bootstrap/root.k8s.yaml', 'prod/billing-prod.k8s.yaml', 'staging/billing-staging.k8s.yaml',
  ]);
  expect(manifests.filter(m => m.object.kind === 'Application').map(m => m.object.metadata.name)).toEqual(['billing-staging', 'billing-prod', 'billing-root']);
  expect(fs.existsSync(path.join(helmDir, 'templates', 'prod.yaml'))).toBe(true);
});

test('the API reads two databases through distinct variables, each admitted by its NetworkPolicy', () => {
  const api = container(find('Deployment', 'billing-api').spec.template.spec, 'app');
  const env = Object.fromEntries(api.env.map((e: any) => [e.name, e.value ?? e.valueFrom.secretKeyRef]));
  expect(env.PGHOST).toBe('ledger-db');
  expect(env.INVOICES_PGHOST).toBe('invoices-db');
  expect(env.INVOICES_PGPASSWORD).toEqual({ name: 'invoices-db-login', key: 'password' });
  expect(api.image).toBe(`ghcr.io/acme/billing-api@${digestOf('api')}`);
  const admitted = (db: string) => find('NetworkPolicy', db).spec.ingress[0].from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/name']);
  expect(admitted('ledger-db')).toEqual(expect.arrayContaining(['billing-api']));
  expect(admitted('ledger-db')).not.toContain('billing-worker');
  expect(admitted('invoices-db')).toEqual(expect.arrayContaining(['billing-api', 'billing-worker']));
});

test('the API is exposed through an Ingress, admitted only from the ingress controller', () => {
  const ingress = find('Ingress', 'billing-api');
  expect(ingress.spec.rules[0].host).toBe('billing.acme.example');
  expect(ingress.spec.tls).toEqual([{ hosts: ['billing.acme.example'], secretName: 'billing-tls' }]);
  expect(find('NetworkPolicy', 'billing-api').spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }]);
});

test('every object is schema-valid and every pod restricted', () => {
  const schema = new SchemaValidator();
  expect(manifests.flatMap(m => schema.errors(m.object))).toEqual([]);
  expect(manifests.flatMap(m => podSpecsOf(m.object)).flatMap(restrictedViolations)).toEqual([]);
});
