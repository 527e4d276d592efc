/**
 * End-to-end test of the construct library as other teams consume it: `npm pack`
 * the project, `npm install` the tarball into an empty project (dependencies
 * from the npm registry), compile the README's second-team repository (two
 * services, two databases, staging and prod, Argo CD, a Helm chart) against the
 * installed package with `tsc --strict`, run it as that repository's synth
 * command, and check the tree it wrote; then check a failing synth keeps it.
 *
 *   npx ts-node test/e2e/package.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { check, e2eMain, equal, hashTree, onCleanup, ROOT, run, section } from './harness';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-package-'));
const consumer = path.join(tmp, 'consumer');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf-8'));
const EXAMPLE = 'billing-repository';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const LOCK = {
  version: 1,
  images: {
    'billing-api': { repository: 'ghcr.io/acme/billing-api', digest: digest('b'), builder: 'ko' },
    'billing-worker': { repository: 'ghcr.io/acme/billing-worker', digest: digest('c'), builder: 'ko' },
    'postgres': { repository: 'docker.io/library/postgres', digest: digest('a'), builder: 'upstream' },
  },
};
const readObjects = (file: string) => YAML.parseAllDocuments(fs.readFileSync(path.join(consumer, file), 'utf-8')).map(d => d.toJS());

e2eMain({ steps: 5, tmp }, async () => {
  let tarball = '';
  await section([
    ['compile and npm pack the library', async () => {
      const compiled = await run('npx', ['projen', 'compile'], { cwd: ROOT, echo: '    | ' });
      check('tsc compiles the library', compiled.code === 0, compiled.stderr);
      const packed = await run('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: ROOT });
      const info = JSON.parse(packed.stdout)[0];
      tarball = path.join(tmp, info.filename);
      const files: string[] = info.files.map((f: { path: string }) => f.path);
      check('the tarball holds the compiled entry point and its types', files.includes('lib/src/index.js') && files.includes('lib/src/index.d.ts'));
      check('the tarball holds the compiled Argo CD imports', files.some(f => f.startsWith('lib/imports/') && f.endsWith('.js')));
      check('the tarball leaves out dist/, app/, helm/, tests, vendored files and the synth bundles',
        !files.some(f => /^(dist|app|helm|test|third_party|scripts|lib\/bundle|lib\/test)\//.test(f)), files.join(' '));
    }],
    ['npm install the tarball into an empty project', async () => {
      fs.mkdirSync(consumer);
      fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
      onCleanup('remove the consumer project', () => fs.rmSync(consumer, { recursive: true, force: true }));
      const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball, 'typescript@5.9.3', '@types/node@20'], { cwd: consumer, echo: '    | ' });
      check('npm install succeeds', installed.code === 0, installed.stderr);
      check(`${PACKAGE.name} is installed`, fs.existsSync(path.join(consumer, 'node_modules', ...PACKAGE.name.split('/'), 'package.json')));
    }],
    ['compile the README\'s second-team repository against the installed package', async () => {
      fs.copyFileSync(path.join(ROOT, 'test', 'example', `${EXAMPLE}.ts`), path.join(consumer, `${EXAMPLE}.ts`));
      const tsc = await run('npx', ['tsc', '--strict', '--esModuleInterop', '--module', 'commonjs', '--target', 'es2020', '--skipLibCheck', '--types', 'node', `${EXAMPLE}.ts`], { cwd: consumer });
      check('tsc --strict compiles the example', tsc.code === 0, tsc.stdout + tsc.stderr);
    }],
    ['run it as the repository\'s synth command and check the tree', async () => {
      fs.writeFileSync(path.join(consumer, 'images.lock.json'), JSON.stringify(LOCK, undefined, 2));
      const synth = await run('node', [`${EXAMPLE}.js`], { cwd: consumer });
      check('the synth command exits 0', synth.code === 0, synth.stderr);
      check('it reports progress per directory', /\[synth 1\/4\] dist\/staging: \d+ objects/.test(synth.stderr), synth.stderr);
      for (const file of ['dist/staging/billing-staging.k8s.yaml', 'dist/prod/billing-prod.k8s.yaml', 'dist/apps/applications.k8s.yaml', 'dist/bootstrap/root.k8s.yaml', 'helm/billing/Chart.yaml', 'helm/billing/templates/prod.yaml']) {
        check(`it wrote ${file}`, fs.existsSync(path.join(consumer, file)));
      }
      const prod = readObjects('dist/prod/billing-prod.k8s.yaml');
      const kinds = new Set(prod.map(d => d.kind));
      for (const kind of ['Deployment', 'StatefulSet', 'NetworkPolicy', 'CronJob', 'Ingress']) check(`prod has a ${kind}`, kinds.has(kind));
      check('every prod object is in namespace billing', prod.every(d => d.metadata.namespace === 'billing'));
      const api = prod.find(d => d.kind === 'Deployment' && d.metadata.name === 'billing-api').spec.template.spec.containers[0];
      equal('the API pins the locked digest', api.image, `ghcr.io/acme/billing-api@${digest('b')}`);
      equal('the API reads both databases', ['PGHOST', 'INVOICES_PGHOST'].map(n => api.env.find((e: any) => e.name === n)?.value), ['ledger-db', 'invoices-db']);
      const apps = readObjects('dist/apps/applications.k8s.yaml');
      equal('an AppProject and an Application per environment', apps.map(d => `${d.kind}/${d.metadata.name}`), ['AppProject/billing', 'Application/billing-staging', 'Application/billing-prod']);
      equal('the root app syncs dist/apps', readObjects('dist/bootstrap/root.k8s.yaml')[0].spec.source.path, 'dist/apps');
    }],
    ['a failing synth (an image missing from the lock) keeps dist/ and the chart', async () => {
      const before = [hashTree(path.join(consumer, 'dist')), hashTree(path.join(consumer, 'helm'))];
      const { 'billing-worker': _dropped, ...images } = LOCK.images;
      fs.writeFileSync(path.join(consumer, 'images.lock.json'), JSON.stringify({ ...LOCK, images }));
      const synth = await run('node', [`${EXAMPLE}.js`], { cwd: consumer, allowFail: true });
      equal('the synth command exits 1', synth.code, 1);
      check('the error names the construct and the image', /billing-staging\/billing-worker: image "billing-worker" is not pinned/.test(synth.stderr), synth.stderr);
      equal('dist/ and helm/ are byte-identical', [hashTree(path.join(consumer, 'dist')), hashTree(path.join(consumer, 'helm'))], before);
    }],
  ]);
});
