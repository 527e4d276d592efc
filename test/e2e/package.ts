/**
 * End-to-end test of the construct library as other teams consume it: `npm pack`
 * the project, `npm install` the tarball into an empty project (dependencies
 * from the npm registry), compile the README's library example against the
 * installed package with tsc, run it, and check what it synthesized.
 *
 *   npx ts-node test/e2e/package.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { check, e2eMain, equal, onCleanup, ROOT, run, section } from './harness';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-package-'));
const consumer = path.join(tmp, 'consumer');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf-8'));

const RUNNER = `import { App } from 'cdk8s';
import { ImageLock } from '${PACKAGE.name}';
import { buildBilling } from './library-usage';

const lock = ImageLock.fromDocument({ version: 1, images: {
  'postgres': { repository: 'docker.io/library/postgres', digest: 'sha256:${'a'.repeat(64)}', builder: 'upstream' },
  'billing-api': { repository: 'ghcr.io/acme/billing-api', digest: 'sha256:${'b'.repeat(64)}', builder: 'ko' },
} });
const app = new App({ outdir: 'out' });
buildBilling(app, lock);
app.synth();
`;

e2eMain({ steps: 4, tmp }, async () => {
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
      check('the tarball leaves out dist/, app/, helm/ and tests', !files.some(f => /^(dist|app|helm|test)\//.test(f)), files.join(' '));
    }],
    ['npm install the tarball into an empty project', async () => {
      fs.mkdirSync(consumer);
      fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
      onCleanup('remove the consumer project', () => fs.rmSync(consumer, { recursive: true, force: true }));
      const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball, 'typescript@5.9.3', '@types/node@20'], { cwd: consumer, echo: '    | ' });
      check('npm install succeeds', installed.code === 0, installed.stderr);
      check(`${PACKAGE.name} is installed`, fs.existsSync(path.join(consumer, 'node_modules', ...PACKAGE.name.split('/'), 'package.json')));
    }],
    ['compile the README example against the installed package', async () => {
      fs.copyFileSync(path.join(ROOT, 'test', 'example', 'library-usage.ts'), path.join(consumer, 'library-usage.ts'));
      fs.writeFileSync(path.join(consumer, 'run.ts'), RUNNER);
      const tsc = await run('npx', ['tsc', '--strict', '--esModuleInterop', '--module', 'commonjs', '--target', 'es2020', '--skipLibCheck', 'run.ts', 'library-usage.ts'], { cwd: consumer });
      check('tsc --strict compiles the example', tsc.code === 0, tsc.stdout + tsc.stderr);
    }],
    ['run it and check the manifests', async () => {
      const synth = await run('node', ['run.js'], { cwd: consumer });
      check('the example synthesizes', synth.code === 0, synth.stderr);
      const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(consumer, 'out', 'billing.k8s.yaml'), 'utf-8')).map(d => d.toJS());
      const kinds = new Set(docs.map(d => d.kind));
      for (const kind of ['Deployment', 'StatefulSet', 'NetworkPolicy', 'CronJob', 'Application']) check(`it emits a ${kind}`, kinds.has(kind));
      const deployment = docs.find(d => d.kind === 'Deployment');
      equal('the Deployment pins the locked digest', deployment.spec.template.spec.containers[0].image, `ghcr.io/acme/billing-api@sha256:${'b'.repeat(64)}`);
    }],
  ]);
});
