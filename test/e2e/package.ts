/**
 * End-to-end test of the construct library as other teams consume it: `npm pack`
 * the project (asserting it holds the library and nothing else), `npm install`
 * the tarball into an empty project (dependencies from the npm registry),
 * compile the README's second-team repository (two services, two databases,
 * staging and prod, Argo CD, a Helm chart) against the installed package with
 * `tsc --strict`, run the package's `cdk8s-gitops` CLI on it (synth, then diff
 * and view in a git repository), and check the tree it wrote; then check a
 * failing synth keeps it.
 *
 *   npx ts-node test/e2e/package.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { check, e2eMain, equal, hashTree, onCleanup, progress, ROOT, run, section } from './harness';

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

/**
 * The only files the package may hold: the compiled library and its typings, the CLI's launcher, the
 * Sealed Secrets CRD the controller construct emits and the CloudNativePG manifest the operator construct
 * renders (each with its license), and what npm always adds.
 */
const PACKAGE_FILE = new RegExp('^(lib/(src|imports)/.+\\.(js|d\\.ts)|bin/cdk8s-gitops|third_party/sealed-secrets-v0\\.27\\.1/(bitnami\\.com_sealedsecrets\\.json|LICENSE)'
  + '|third_party/cloudnative-pg-v1\\.30\\.0/(cnpg-1\\.30\\.0\\.json|LICENSE)|third_party/plugin-barman-cloud-v0\\.14\\.0/(manifest\\.json|LICENSE)'
  + '|package\\.json|README\\.md|LICENSE)$');
const cli = (args: string[], allowFail = false) => run('npx', ['--no-install', 'cdk8s-gitops', ...args], { cwd: consumer, allowFail });

e2eMain({ steps: 7, tmp }, async () => {
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
      check('the tarball holds the CLI and its launcher', files.includes('lib/src/cli/cli.js') && files.includes('bin/cdk8s-gitops'));
      check('the tarball holds the vendored Sealed Secrets CRD (as JSON) and its license',
        files.includes('third_party/sealed-secrets-v0.27.1/bitnami.com_sealedsecrets.json') && files.includes('third_party/sealed-secrets-v0.27.1/LICENSE'));
      check('the tarball holds the vendored CloudNativePG manifest (as JSON) and its license',
        files.includes('third_party/cloudnative-pg-v1.30.0/cnpg-1.30.0.json') && files.includes('third_party/cloudnative-pg-v1.30.0/LICENSE'));
      check('the tarball holds the vendored Barman Cloud plugin manifest (as JSON) and its license',
        files.includes('third_party/plugin-barman-cloud-v0.14.0/manifest.json') && files.includes('third_party/plugin-barman-cloud-v0.14.0/LICENSE'));
      check('the tarball holds the compiled Argo CD imports', files.some(f => f.startsWith('lib/imports/') && f.endsWith('.js')));
      equal('the tarball holds only library code, its typings, the launcher, the Sealed Secrets CRD, the CloudNativePG and Barman Cloud plugin manifests, package.json, README and LICENSE', files.filter(f => !PACKAGE_FILE.test(f)), []);
      check('no file of this repository\'s todo tree is packed', !files.some(f => /(^|\/)todo\//.test(f)), files.join(' '));
      equal('runtime dependencies: cdk8s, cdk8s-plus-27, constructs, yaml (cytoscape is an optional peer)',
        [Object.keys(PACKAGE.dependencies).sort(), PACKAGE.peerDependenciesMeta?.cytoscape?.optional], [['cdk8s', 'cdk8s-plus-27', 'constructs', 'yaml'], true]);
      progress(`  tarball: ${info.size} bytes, ${info.unpackedSize} unpacked, ${files.length} files`);
    }],
    ['npm install the tarball into an empty project', async () => {
      fs.mkdirSync(consumer);
      fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
      onCleanup('remove the consumer project', () => fs.rmSync(consumer, { recursive: true, force: true }));
      const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball, 'typescript@5.9.3', '@types/node@20'], { cwd: consumer, echo: '    | ' });
      check('npm install succeeds', installed.code === 0, installed.stderr);
      check(`${PACKAGE.name} is installed`, fs.existsSync(path.join(consumer, 'node_modules', ...PACKAGE.name.split('/'), 'package.json')));
      check('the optional peer cytoscape is not installed with it', !fs.existsSync(path.join(consumer, 'node_modules', 'cytoscape')));
    }],
    ['compile the README\'s second-team repository against the installed package', async () => {
      fs.copyFileSync(path.join(ROOT, 'test', 'example', `${EXAMPLE}.ts`), path.join(consumer, `${EXAMPLE}.ts`));
      const tsc = await run('npx', ['tsc', '--strict', '--esModuleInterop', '--module', 'commonjs', '--target', 'es2020', '--skipLibCheck', '--types', 'node', `${EXAMPLE}.ts`], { cwd: consumer });
      check('tsc --strict compiles the example', tsc.code === 0, tsc.stdout + tsc.stderr);
    }],
    ['run the installed CLI on it: npx cdk8s-gitops synth --app, and check the tree', async () => {
      fs.writeFileSync(path.join(consumer, 'images.lock.json'), JSON.stringify(LOCK, undefined, 2));
      const synth = await cli(['synth', '--app', `${EXAMPLE}.js`]);
      check('cdk8s-gitops synth exits 0', synth.code === 0, synth.stderr);
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
    ['diff in a git repository, with the module named in package.json: no change, then exactly a replica change, flagged by path', async () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(consumer, 'package.json'), 'utf-8'));
      fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ ...pkg, 'cdk8s-gitops': { app: `${EXAMPLE}.js` } }, undefined, 2));
      const git = (...args: string[]) => run('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: consumer });
      fs.writeFileSync(path.join(consumer, '.gitignore'), 'node_modules/\n');
      await git('init', '-q', '-b', 'main');
      await git('add', '.');
      await git('commit', '-q', '-m', 'billing tree');
      const clean = await cli(['diff'], true);
      equal('no change: exit 0', clean.code, 0);
      check('it says so', clean.stdout.includes('no changes against HEAD'), clean.stdout);
      const js = path.join(consumer, `${EXAMPLE}.js`);
      fs.writeFileSync(js, fs.readFileSync(js, 'utf-8').replace('replicas: 3', 'replicas: 4'));
      const changed = await cli(['diff', '--format=json'], true);
      equal('a change: exit 1', changed.code, 1);
      const review = JSON.parse(changed.stdout);
      equal('exactly the prod API\'s replicas', review.changes.flatMap((c: any) => (c.fields ?? []).map((f: any) => `${c.directory} ${c.kind}/${c.name} ${f.path}: ${f.before} -> ${f.after}`)),
        ['prod Deployment/billing-api spec.replicas: 3 -> 4']);
      await git('checkout', '--', `${EXAMPLE}.js`);
    }],
    ['view: a clear error without the optional peer, the page once cytoscape is installed', async () => {
      const missing = await cli(['view', '--out', 'view.html'], true);
      equal('without cytoscape: exit 3', missing.code, 3);
      check('the error says how to get it', missing.stderr.includes('npm install --save-dev cytoscape@^3.34'), missing.stderr);
      const installed = await run('npm', ['install', '--no-audit', '--no-fund', `cytoscape@${PACKAGE.devDependencies.cytoscape.replace(/^[\^~]/, '')}`], { cwd: consumer });
      check('npm install cytoscape succeeds', installed.code === 0, installed.stderr);
      const view = await cli(['view', '--out', 'view.html'], true);
      equal('view exits 0', view.code, 0);
      check('it wrote a page that inlines cytoscape and lists billing-api', /cytoscape/.test(fs.readFileSync(path.join(consumer, 'view.html'), 'utf-8'))
        && fs.readFileSync(path.join(consumer, 'view.html'), 'utf-8').includes('billing-api'));
    }],
    ['a failing synth (an image missing from the lock) keeps dist/ and the chart', async () => {
      const before = [hashTree(path.join(consumer, 'dist')), hashTree(path.join(consumer, 'helm'))];
      const { 'billing-worker': _dropped, ...images } = LOCK.images;
      fs.writeFileSync(path.join(consumer, 'images.lock.json'), JSON.stringify({ ...LOCK, images }));
      const synth = await cli(['synth'], true);
      equal('cdk8s-gitops synth exits 1', synth.code, 1);
      check('the error names the construct and the image', /billing-staging\/billing-worker: image "billing-worker" is not pinned/.test(synth.stderr), synth.stderr);
      equal('dist/ and helm/ are byte-identical', [hashTree(path.join(consumer, 'dist')), hashTree(path.join(consumer, 'helm'))], before);
    }],
  ]);
});
