import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { ContainerImage, GitOpsEnvironment, GitOpsRepository, GoWebService, ImageLock } from '../src';
import { digestOf } from './support/fixtures';
import { runCli } from '../src/cli/cli';
import { parseFlags } from '../src/common/cli-flags';
import { CommandIo } from '../src/common/command-io';

const ROOT = path.resolve(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const LOCK = { version: 1, images: { api: { repository: 'ghcr.io/acme/api', digest: digestOf('api'), builder: 'ko' } } };
fs.writeFileSync(path.join(work, 'images.lock.json'), JSON.stringify(LOCK));

function shop(): GitOpsRepository<number> {
  return new GitOpsRepository<number>({
    name: 'shop',
    repoUrl: 'https://git.acme.example/shop/gitops.git',
    environments: [{ name: 'prod', namespace: 'shop', settings: 2 }],
    stack: (chart: Chart, env: GitOpsEnvironment<number>, lock: ImageLock) => {
      new GoWebService(chart, 'api', { image: ContainerImage.fromLock(lock, 'api'), replicas: env.settings });
    },
  });
}

async function cli(argv: string[], repository?: GitOpsRepository<any>, cwd = work) {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, color: false, cwd, env: {} };
  const status = await runCli(argv, io, repository);
  return { status, stdout, stderr };
}

describe('one flag parser for every command', () => {
  const spec = { values: ['base'], repeatable: ['build-arg'], switches: ['cluster'] };

  test('--flag value and --flag=value mean the same', () => {
    expect(parseFlags(['--base', 'HEAD~1'], spec).value('base')).toBe('HEAD~1');
    expect(parseFlags(['--base=HEAD~1'], spec).value('base')).toBe('HEAD~1');
    expect(parseFlags(['--base=a=b'], spec).value('base')).toBe('a=b');
  });

  test('a repeated flag is an error, unless it is repeatable', () => {
    expect(() => parseFlags(['--base', 'a', '--base=b'], spec)).toThrow('--base is given twice: give it once');
    expect(() => parseFlags(['--cluster', '--cluster'], spec)).toThrow('--cluster is given twice');
    expect(parseFlags(['--build-arg', 'A=1', '--build-arg=B=2'], spec).values('build-arg')).toEqual(['A=1', 'B=2']);
  });

  test('-h is --help; switches take no value; a flag is not a value', () => {
    expect(parseFlags(['-h'], spec).has('help')).toBe(true);
    expect(() => parseFlags(['--cluster=yes'], spec)).toThrow('--cluster takes no value');
    expect(() => parseFlags(['--base', '--cluster'], spec)).toThrow('--base needs a value');
    expect(() => parseFlags(['HEAD'], spec)).toThrow('unknown argument "HEAD"');
  });
});

describe('runCli', () => {
  test('synth writes the tree where the flags say; --flag=value works as for every command', async () => {
    const run = await cli(['synth', `--outdir=${path.join(work, 'dist')}`, '--lock', 'images.lock.json'], shop());
    expect(run).toMatchObject({ status: 0, stdout: '' });
    expect(run.stderr).toContain('[synth 1/3]');
    expect(fs.readdirSync(path.join(work, 'dist')).sort()).toEqual(['apps', 'bootstrap', 'prod']);
  });

  test('a failed synth exits 1, names the construct and leaves the tree', async () => {
    const before = fs.readFileSync(path.join(work, 'dist', 'prod', 'shop-prod.k8s.yaml'), 'utf-8');
    fs.writeFileSync(path.join(work, 'empty.lock.json'), JSON.stringify({ version: 1, images: {} }));
    const run = await cli(['synth', '--outdir', 'dist', '--lock', 'empty.lock.json'], shop());
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/synth failed, dist\/ left as they were:\n {2}shop-prod\/api: image "api" is not pinned/);
    expect(fs.readFileSync(path.join(work, 'dist', 'prod', 'shop-prod.k8s.yaml'), 'utf-8')).toBe(before);
  });

  test('a command\'s own usage errors use the one parser: a repeated --base is refused by diff', async () => {
    const run = await cli(['diff', '--base', 'a', '--base=b'], shop());
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/^error: --base is given twice: give it once\n\nusage: diff/);
  });

  test('no command or an unknown one exits 2 with the list of commands; --help exits 0', async () => {
    for (const argv of [[], ['deploy']]) {
      const run = await cli(argv, shop());
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/usage: cdk8s-gitops <command>[^]*synth[^]*diff[^]*view[^]*build-image[^]*secrets/);
    }
    expect((await cli(['deploy'], shop())).stderr).toContain('error: unknown command "deploy"');
    const help = await cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--app FILE');
  });

  test('secrets lists what is sealed per environment, and refuses an environment the repository lacks', async () => {
    const list = await cli(['secrets', 'list'], shop());
    expect(list.status).toBe(0);
    expect(list.stdout).toBe('prod (namespace shop): certificate none\n');
    const unknown = await cli(['secrets', 'seal', '--env', 'qa', '--secret', 'login', '--key', 'password'], shop());
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^error: --env "qa" is not one of the environments \(prod\)\n\nusage: secrets <command>/);
  });

  test('build-image takes the image name and context from the repository\'s imageSources, or asks for them', async () => {
    const bare = await cli(['build-image', '--builder', 'ko', '--repository', 'ghcr.io/acme/api'], shop());
    expect(bare.status).toBe(1);
    expect(bare.stderr).toMatch(/^error: --name is required: repository shop declares no imageSources\n\nusage: build-image/);
    const two = new GitOpsRepository<number>({
      name: 'two',
      repoUrl: 'https://git.acme.example/two.git',
      environments: [{ name: 'prod', namespace: 'two', settings: 1 }],
      stack: () => undefined,
      imageSources: { api: { context: 'api' }, worker: { context: 'worker' } },
    });
    const ambiguous = await cli(['build-image', '--builder', 'ko', '--repository', 'ghcr.io/acme/api'], two);
    expect(ambiguous.stderr).toContain('error: --name is required: repository two has several image sources (api, worker)');
    const unknown = await cli(['build-image', '--builder', 'ko', '--repository', 'ghcr.io/acme/api', '--name', 'cron'], two);
    expect(unknown.stderr).toContain('error: --context is required: "cron" is not one of the image sources of repository two (api, worker)');
    // A known source: the build starts (and fails at preflight on the missing directory, leaving the files).
    const known = await cli(['build-image', '--builder', 'ko', '--repository', 'ghcr.io/acme/api', '--name', 'worker'], two);
    expect(known.status).toBe(1);
    expect(known.stderr).toContain(`build context ${path.join(work, 'worker')} is not a directory`);
    expect(known.stderr).toContain('images.lock.json and dist/ were left unchanged.');
  });

  describe('--app: the module that exports the repository', () => {
    const library = path.join(ROOT, 'src');
    const module = (file: string, body: string) => fs.writeFileSync(path.join(work, file), `const lib = require(${JSON.stringify(library)});\n${body}\n`);
    const stack = '(chart, env, lock) => { new lib.GoWebService(chart, \'api\', { image: lib.ContainerImage.fromLock(lock, \'api\') }); }';
    const repo = (name: string) => `new lib.GitOpsRepository({ name: '${name}', repoUrl: 'https://git.acme.example/x.git', environments: [{ name: 'prod', namespace: '${name}', settings: {} }], stack: ${stack} })`;

    test('loads the one exported GitOpsRepository and runs the command on it', async () => {
      module('one.js', `exports.SHOP = ${repo('one')};\nexports.OTHER = 42;`);
      const run = await cli(['synth', '--app', 'one.js', '--outdir', 'one-dist']);
      expect(run).toMatchObject({ status: 0 });
      expect(fs.existsSync(path.join(work, 'one-dist', 'prod', 'one-prod.k8s.yaml'))).toBe(true);
    });

    test('without --app, package.json names the module', async () => {
      const dir = fs.mkdtempSync(path.join(work, 'pkg-'));
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ 'cdk8s-gitops': { app: '../one.js' } }));
      const run = await cli(['synth', '--outdir', 'pkg-dist', '--lock', '../images.lock.json'], undefined, dir);
      expect(run).toMatchObject({ status: 0 });
      expect(fs.existsSync(path.join(dir, 'pkg-dist', 'prod', 'one-prod.k8s.yaml'))).toBe(true);
    });

    test.each([
      ['no module at all', [], /no repository module: pass --app FILE, or set "cdk8s-gitops": \{ "app": FILE \}/],
      ['a file that does not exist', ['--app', 'missing.js'], /--app missing.js: .*missing.js does not exist \(compile your TypeScript first/],
      ['a module without a repository', ['--app', 'none.js'], /--app none.js exports no GitOpsRepository: export exactly one/],
      ['a module with two', ['--app', 'two.js'], /--app two.js exports several GitOpsRepository objects \(A, B\): export exactly one/],
      ['--app twice', ['--app', 'one.js', '--app=one.js'], /--app is given twice/],
    ])('%s is a usage error (exit 2)', async (_what, args, message) => {
      module('none.js', 'exports.X = 1;');
      module('two.js', `exports.A = ${repo('a')};\nexports.B = ${repo('b')};`);
      const run = await cli(['synth', ...args as string[]]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
    });
  });
});
