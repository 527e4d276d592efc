import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { snapshotTree } from './support/synth';

// `npm run synth` runs compiled JavaScript through scripts/run-compiled.js. These tests run it in a
// copy of the project's build inputs (node_modules linked) and prove a stale compile never yields a
// stale dist/: a changed source is compiled before synth, a compile error stops synth.
const ROOT = path.resolve(__dirname, '..');
const project = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-launcher-'));
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));
jest.setTimeout(180_000);

// The sealed logins and the vendored CRD are inputs of the tree too.
for (const entry of ['src', 'imports', 'todo', 'scripts', 'tsconfig.json', 'package.json', 'package-lock.json', 'images.lock.json', 'sealed-secrets', 'third_party']) {
  fs.cpSync(path.join(ROOT, entry), path.join(project, entry), { recursive: true });
}
fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));

const outdir = path.join(project, 'dist');
const helmDir = path.join(project, 'helm');
const tankaDir = path.join(project, 'tanka');
const environments = path.join(project, 'todo', 'environments.ts');
const original = fs.readFileSync(environments, 'utf-8');

function synth() {
  const run = spawnSync(process.execPath, ['scripts/run-compiled.js', 'todo/cli.ts', 'synth'], {
    cwd: project, encoding: 'utf-8', env: { ...process.env, CDK8S_OUTDIR: outdir, HELM_OUTDIR: helmDir },
  });
  return { status: run.status, stderr: run.stderr };
}

function stagingReplicas(): number {
  const text = fs.readFileSync(path.join(outdir, 'staging', 'todo-staging.k8s.yaml'), 'utf-8');
  const deployment = text.split('\n---\n').find(doc => doc.includes('kind: Deployment'))!;
  return Number(/\n {2}replicas: (\d+)/.exec(deployment)![1]);
}

test('a fresh project compiles once, then synthesizes without compiling', () => {
  const first = synth();
  expect(first).toMatchObject({ status: 0 });
  expect(first.stderr).toContain('[compile] lib/ is missing or its last compile failed');
  expect(snapshotTree(outdir)).toEqual(snapshotTree(path.join(ROOT, 'dist')));

  const second = synth();
  expect(second.status).toBe(0);
  expect(second.stderr).not.toContain('[compile]');
  expect(second.stderr).toContain('[synth 6/6]');
});

test('a changed source is compiled before synth, so dist/ follows it', () => {
  fs.writeFileSync(environments, original.replace(/replicas: 2,/, 'replicas: 4,'));
  const run = synth();
  expect(run.status).toBe(0);
  expect(run.stderr).toContain('[compile] sources changed since the last compile');
  expect(stagingReplicas()).toBe(4);
});

test('a change that keeps the size and puts an older mtime back is compiled too (the stat cache keys on ctime; tsc runs with --force)', () => {
  // Whole seconds, which utimes sets exactly; the launcher remembers the file with this mtime.
  const mtime = 1_700_000_000;
  fs.utimesSync(environments, mtime, mtime);
  expect(synth().stderr).not.toContain('[compile]');
  const before = fs.statSync(environments);
  fs.writeFileSync(environments, original.replace(/replicas: 2,/, 'replicas: 3,'));
  fs.utimesSync(environments, mtime, mtime);
  const after = fs.statSync(environments);
  expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  const run = synth();
  expect(run.status).toBe(0);
  expect(run.stderr).toContain('[compile] sources changed since the last compile');
  expect(stagingReplicas()).toBe(3);
});

test('a compile error stops synth and leaves dist/ and the chart as they were', () => {
  const before = [snapshotTree(outdir), snapshotTree(helmDir), snapshotTree(tankaDir)];
  expect(Object.keys(before[1])).toContain('values-prod.yaml');
  expect(Object.keys(before[2])).toContain('lib/todo/prod.json');
  fs.writeFileSync(environments, original.replace(/replicas: 2,/, "replicas: 'two',"));
  const run = synth();
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/error TS\d+/);
  expect(run.stderr).toContain('[compile] failed: fix the errors above. Nothing was run, so no output changed.');
  expect([snapshotTree(outdir), snapshotTree(helmDir), snapshotTree(tankaDir)]).toEqual(before);

  // tsc emitted the broken JavaScript anyway, so the failed compile left lib/ unstamped: fixing the
  // source compiles again before anything is synthesized.
  fs.writeFileSync(environments, original);
  const fixed = synth();
  expect(fixed.status).toBe(0);
  expect(fixed.stderr).toContain('[compile] lib/ is missing or its last compile failed');
  expect(stagingReplicas()).toBe(2);
});
