import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart } from 'cdk8s';
import {
  ContainerImage, GitOpsEnvironment, GitOpsRepository, GoWebService, ImageLock, ImageLockDocument, Postgres, PostgresCredentials,
} from '../../src';
import { DIFF_ERROR_EXIT, diffCommand } from '../../src/review/diff-command';
import { viewCommand } from '../../src/review/view-command';
import { digestOf } from '../support/fixtures';

// A git repository of a small GitOps tree: committed once, then compared with changed definitions.
const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'diff-command-'));
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

interface Settings { readonly replicas: number; readonly storageSize: string }
const LOCK: ImageLockDocument = {
  version: 1,
  images: {
    api: { repository: 'ghcr.io/acme/api', digest: digestOf('api'), builder: 'ko' },
    postgres: { repository: 'docker.io/library/postgres', digest: digestOf('pg'), builder: 'upstream' },
  },
};

function shop(settings: Settings, image = 'api'): GitOpsRepository<Settings> {
  return new GitOpsRepository<Settings>({
    name: 'shop',
    repoUrl: 'https://git.acme.example/shop/gitops.git',
    environments: [{ name: 'prod', namespace: 'shop', settings }],
    stack: (chart: Chart, env: GitOpsEnvironment<Settings>, lock: ImageLock) => {
      const db = new Postgres(chart, 'shop-db', {
        image: ContainerImage.fromLock(lock, 'postgres'), credentials: PostgresCredentials.fromExistingSecret('login'), storageSize: env.settings.storageSize,
      });
      new GoWebService(chart, 'shop', { image: ContainerImage.fromLock(lock, image), replicas: env.settings.replicas }).connectToPostgres(db);
    },
  });
}

const COMMITTED: Settings = { replicas: 2, storageSize: '10Gi' };
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf-8' });
fs.writeFileSync(path.join(repo, 'images.lock.json'), ImageLock.serialize(LOCK));
git('init', '-q', '-b', 'main');
shop(COMMITTED).synth({ outdir: path.join(repo, 'dist'), lock: ImageLock.fromDocument(LOCK) });
git('add', '.');
git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'tree');

function diff(repository: GitOpsRepository<Settings>, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const status = diffCommand(repository, argv, {
    stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, color: false, cwd: repo, env: {},
  });
  return { status, stdout, stderr };
}

test('no change exits 0 and leaves the committed tree alone', () => {
  const before = git('status', '--porcelain');
  const run = diff(shop(COMMITTED));
  expect(run).toMatchObject({ status: 0, stdout: expect.stringContaining('no changes against HEAD') });
  expect(run.stderr).toMatch(/\[diff 1\/3\][^]*\[diff 2\/3\][^]*\[diff 3\/3\]/);
  expect(git('status', '--porcelain')).toBe(before);
});

test('a change exits 1 and lists the field with its old and new value', () => {
  const run = diff(shop({ ...COMMITTED, replicas: 4 }));
  expect(run.status).toBe(1);
  expect(run.stdout).toContain('~ prod: Deployment shop/shop (changed)');
  expect(run.stdout).toContain('spec.replicas: 2 -> 4');
  expect(run.stdout).not.toContain('\u001b[');
});

test('a dangerous change exits 2 and explains itself, in every format', () => {
  const shrunk = shop({ ...COMMITTED, storageSize: '5Gi' });
  const terminal = diff(shrunk);
  expect(terminal.status).toBe(2);
  expect(terminal.stdout).toContain('DANGEROUS (2):');
  expect(terminal.stdout).toMatch(/! prod: StatefulSet shop\/shop-db \[storage-shrink\]\n\s+storage of data shrinks from 10Gi to 5Gi/);

  const json = diff(shrunk, '--format', 'json');
  expect(json.status).toBe(2);
  const review = JSON.parse(json.stdout);
  expect(review.base).toBe('HEAD');
  expect(review.dangers.map((d: any) => d.rule).sort()).toEqual(['immutable-field', 'storage-shrink']);
  expect(review.changes[0].fields[0]).toEqual({ path: 'spec.volumeClaimTemplates[name=data].spec.resources.requests.storage', before: '10Gi', after: '5Gi' });

  const markdown = diff(shrunk, '--format', 'markdown');
  expect(markdown.stdout).toContain('#### :warning: Dangerous changes');
  expect(markdown.stdout).toContain('| prod | StatefulSet shop/shop-db | `storage-shrink` |');
  expect(markdown.stdout).toContain('| StatefulSet shop/shop-db | changed | `spec.volumeClaimTemplates[name=data].spec.resources.requests.storage` | 10Gi | 5Gi |');
});

test('colour only when asked for, on the terminal format', () => {
  expect(diff(shop({ ...COMMITTED, replicas: 3 }), '--color').stdout).toContain('\u001b[33m~ prod');
});

test('--base compares with an earlier commit', () => {
  const changed = shop({ ...COMMITTED, replicas: 5 });
  changed.synth({ outdir: path.join(repo, 'dist'), lock: ImageLock.fromDocument(LOCK) });
  git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-am', 'five replicas');
  expect(diff(changed).status).toBe(0);
  const run = diff(changed, '--base', 'HEAD~1');
  expect(run.status).toBe(1);
  expect(run.stdout).toContain('spec.replicas: 2 -> 5');
});

test.each([
  ['a bad ref', () => diff(shop(COMMITTED), '--base', 'no-such-branch'), /diff failed: git ref "no-such-branch" is not a commit/],
  ['a failed synth', () => diff(shop(COMMITTED, 'not-in-the-lock')), /diff failed: synth failed, so there is nothing to compare:\n {2}shop-prod\/shop: image "not-in-the-lock" is not pinned/],
  ['an unknown format', () => diff(shop(COMMITTED), '--format', 'html'), /error: --format "html" is not one of terminal, markdown, json\n\nusage:/],
  ['a flag without its value', () => diff(shop(COMMITTED), '--base'), /error: --base needs a value/],
])('%s is an error, not a diff', (_what, run, message) => {
  const result = run();
  expect(result.status).toBe(DIFF_ERROR_EXIT);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(message);
});

describe('npm run view', () => {
  const view = (repository: GitOpsRepository<Settings>, ...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const status = viewCommand(repository, argv, { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, color: false, cwd: repo, env: {} });
    return { status, stdout, stderr };
  };

  test('writes one page with the tree and the diff, and says where', () => {
    const out = path.join(repo, 'review.html');
    const run = view(shop({ ...COMMITTED, replicas: 7 }), '--out', 'review.html');
    expect(run).toMatchObject({ status: 0, stdout: `${out}\n` });
    const page = fs.readFileSync(out, 'utf-8');
    expect(page).toContain('shop: the GitOps tree');
    expect(page).toContain('"diff":"changed"');
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    fs.rmSync(out);
  });

  test('--help prints the usage; a bad ref is an error', () => {
    expect(view(shop(COMMITTED), '--help')).toMatchObject({ status: 0, stdout: expect.stringContaining('usage: view') });
    const bad = view(shop(COMMITTED), '--base', 'nope');
    expect(bad.status).toBe(DIFF_ERROR_EXIT);
    expect(bad.stderr).toContain('view failed: git ref "nope" is not a commit');
  });
});
