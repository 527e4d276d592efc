import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { argAfter, FakeRegistry, writeScript } from './fakes';
import { ImageBuildError } from '../../src/image-build/build-error';
import { buildImage, ImageBuildOptions } from '../../src/image-build/image-build';
import { TODO_REPOSITORY } from '../../todo/repository';
import { digestOf } from '../support/fixtures';
import { snapshotTree } from '../support/synth';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const DIGEST = digestOf('built');

// Fake tools: they record their arguments and environment, and write the digest
// files the real tools write. FAKE_MODE selects a failure.
const FAKE_KO = `
printf '%s\\n' "$@" > "$FAKE_ARGS"
printf 'KO_DOCKER_REPO=%s\\nKO_DEFAULTBASEIMAGE=%s\\nPWD=%s\\n' "$KO_DOCKER_REPO" "\${KO_DEFAULTBASEIMAGE:-}" "$PWD" > "$FAKE_ENV"
refs=; while [ $# -gt 0 ]; do [ "$1" = --image-refs ] && refs=$2; shift; done
echo "2026/01/01 Building github.com/acme/todo for linux/amd64" >&2
case "\${FAKE_MODE:-ok}" in
  ok) printf '%s@%s\\n' "$KO_DOCKER_REPO" "$FAKE_DIGEST" > "$refs" ;;
  elsewhere) printf 'ghcr.io/someone/else@%s\\n' "$FAKE_DIGEST" > "$refs" ;;
  fail) echo "main.go:3:2: undefined: foo" >&2; echo "Error: failed to publish images" >&2; exit 1 ;;
  garbage) echo "not a reference" > "$refs" ;;
  norefs) ;;
  sleep) exec sleep 30 ;;
esac`;
const FAKE_KANIKO = `
printf '%s\\n' "$@" > "$FAKE_ARGS"
dest=; df=; nf=; while [ $# -gt 0 ]; do
  case $1 in --destination) dest=$2 ;; --digest-file) df=$2 ;; --image-name-with-digest-file) nf=$2 ;; esac; shift
done
printf '%s' "$FAKE_DIGEST" > "$df"
printf '%s@%s\\n' "$dest" "$FAKE_DIGEST" > "$nf"`;
const FAKE_BUILDAH = `
printf '%s\\n' "$@" >> "$FAKE_ARGS"; echo --- >> "$FAKE_ARGS"
if [ "$1" = push ]; then printf '%s' "$FAKE_DIGEST" > "$3"; fi`;

// docker build/push as the docker builder runs them, and docker run of the lifecycle creator as the
// buildpacks builder does: it writes report.toml into the directory mounted at /out and records the
// platform env files it was given.
const FAKE_DOCKER = `
printf '%s\\n' "$@" >> "$FAKE_ARGS"; echo --- >> "$FAKE_ARGS"
case $1 in
  push)
    [ "\${FAKE_MODE:-ok}" = nodigest ] && { echo "The push refers to repository [x]"; exit 0; }
    echo "The push refers to repository [\${2%:*}]"; echo "5f70bf18a086: Pushed"; echo "\${2##*:}: digest: $FAKE_DIGEST size: 528" ;;
  run)
    out=; platform=; prev=; for a in "$@"; do
      if [ "$prev" = --volume ]; then case $a in *:/out) out=\${a%:/out} ;; *:/platform:ro) platform=\${a%:/platform:ro} ;; esac; fi; prev=$a
    done
    for f in "$platform"/env/*; do if [ -e "$f" ]; then printf '%s=%s\\n' "\${f##*/}" "$(cat "$f")"; fi; done > "$FAKE_ENV"
    [ "\${FAKE_MODE:-ok}" = refused ] && { echo "ERROR: No buildpack groups passed detection." >&2; exit 20; }
    printf '[image]\\n  tags = ["x"]\\n  digest = "%s"\\n  manifest-size = 1397\\n' "$FAKE_DIGEST" > "$out/report.toml" ;;
esac`;

let registry: FakeRegistry;
let work: string;
let bin: string;
let env: NodeJS.ProcessEnv;
let log: string[];

beforeAll(async () => { registry = await FakeRegistry.start(); });
afterAll(() => registry.stop());

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'image-build-test-'));
  fs.copyFileSync(path.join(ROOT, 'images.lock.json'), path.join(work, 'images.lock.json'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(work, 'dist'), { recursive: true });
  // The build re-stamps the chart too (helm/todo is the CLI's default --helm-dir, relative to its cwd).
  fs.cpSync(path.join(ROOT, 'helm'), path.join(work, 'helm'), { recursive: true });
  // And the Tanka project (tanka/ beside --outdir).
  fs.cpSync(path.join(ROOT, 'tanka'), path.join(work, 'tanka'), { recursive: true });
  fs.mkdirSync(path.join(work, 'ctx'));
  fs.writeFileSync(path.join(work, 'ctx', 'Dockerfile'), 'FROM scratch\n');
  bin = path.join(work, 'bin');
  writeScript(path.join(bin, 'ko'), FAKE_KO);
  writeScript(path.join(bin, 'go'), 'exit 0');
  writeScript(path.join(bin, 'kaniko-executor'), FAKE_KANIKO);
  writeScript(path.join(bin, 'buildah'), FAKE_BUILDAH);
  writeScript(path.join(bin, 'fake-docker'), FAKE_DOCKER);
  // No crane on this PATH: the digest check goes over HTTP to the fake registry.
  env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: work,
    FAKE_ARGS: path.join(work, 'args'),
    FAKE_ENV: path.join(work, 'env'),
    FAKE_DIGEST: DIGEST,
    KANIKO_EXECUTOR: path.join(bin, 'kaniko-executor'),
    DOCKER_CLI: path.join(bin, 'fake-docker'),
    CNB_BUILDER_IMAGE: `${registry.host}/cnb/builder@${digestOf('builder')}`,
    // The CLI runs in this scratch directory; staging's and prod's sealed logins are the repository's.
    SEALED_SECRETS_DIR: path.join(ROOT, 'sealed-secrets'),
  };
  log = [];
  registry.manifests.clear();
  registry.manifests.add(`${registry.host}/acme/todo@${DIGEST}`);
});

afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

function options(overrides: Partial<ImageBuildOptions> = {}): ImageBuildOptions {
  return {
    builder: 'ko',
    repository: `${registry.host}/acme/todo`,
    name: 'todo',
    context: path.join(work, 'ctx'),
    lockFile: path.join(work, 'images.lock.json'),
    outdir: path.join(work, 'dist'),
    helmDir: path.join(work, 'helm', 'todo'),
    ...overrides,
  };
}

const build = (overrides: Partial<ImageBuildOptions> = {}) =>
  buildImage(options(overrides), { repository: TODO_REPOSITORY, env, log: l => log.push(l), output: () => undefined });

const readLock = () => JSON.parse(fs.readFileSync(path.join(work, 'images.lock.json'), 'utf-8'));
const appImage = (environment: string) => {
  const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(work, 'dist', environment, `todo-${environment}.k8s.yaml`), 'utf-8')).map(d => d.toJS());
  const deployment = docs.find(d => d.kind === 'Deployment' && d.metadata.name === 'todo');
  return deployment.spec.template.spec.containers.find((c: any) => c.name === 'app').image;
};
const helmImage = (environment: string) => YAML.parse(fs.readFileSync(path.join(work, 'helm', 'todo', `values-${environment}.yaml`), 'utf-8'))
  .deployments.todo.containers.app.image;
const tankaImage = (environment: string) => JSON.parse(fs.readFileSync(path.join(work, 'tanka', 'lib', 'todo', `${environment}.json`), 'utf-8'))
  .deployments.todo.spec.template.spec.containers.find((c: any) => c.name === 'app').image;
const leftovers = () => [work, path.join(work, 'helm')].flatMap(dir => fs.readdirSync(dir)).filter(f => /\.build-|\.previous-|\.staging-|\.old-|\.tmp$/.test(f));

/** Everything a build may replace: the lock, dist/, the chart and the Tanka project, byte for byte. */
function outputs(): { lock: Buffer; dist: Record<string, string>; helm: Record<string, string>; tanka: Record<string, string> } {
  const helm = snapshotTree(path.join(work, 'helm', 'todo'));
  const tanka = snapshotTree(path.join(work, 'tanka'));
  // A snapshot without the chart or the project would make every comparison below pass vacuously.
  if (!('values-prod.yaml' in helm)) throw new Error('helm/todo was not copied into the working copy');
  if (!('lib/todo/prod.json' in tanka)) throw new Error('tanka/ was not copied into the working copy');
  return { lock: fs.readFileSync(path.join(work, 'images.lock.json')), dist: snapshotTree(path.join(work, 'dist')), helm, tanka };
}

describe('a successful ko build', () => {
  test('pins the pushed digest in the lock and in every environment', async () => {
    const before = readLock();
    const result = await build();
    const reference = `${registry.host}/acme/todo@${DIGEST}`;
    expect(result.reference).toBe(reference);
    expect(readLock().images).toEqual({
      ...before.images,
      todo: { repository: `${registry.host}/acme/todo`, tag: 'latest', digest: DIGEST, builder: 'ko' },
    });
    for (const environment of ['dev', 'staging', 'prod']) {
      expect(appImage(environment)).toBe(reference);
      expect(helmImage(environment)).toBe(reference);
      expect(tankaImage(environment)).toBe(reference);
    }
    expect(leftovers()).toEqual([]);
  });

  test('runs ko bare in the context dir, with the base image from the environment', async () => {
    env.KO_DEFAULTBASEIMAGE = `${registry.host}/base@${digestOf('base')}`;
    await build();
    const args = fs.readFileSync(env.FAKE_ARGS!, 'utf-8').trim().split('\n');
    expect(args.slice(0, 2)).toEqual(['build', '--bare']);
    expect(args).toContain('--insecure-registry');
    expect(fs.readFileSync(env.FAKE_ENV!, 'utf-8')).toBe(
      `KO_DOCKER_REPO=${registry.host}/acme/todo\nKO_DEFAULTBASEIMAGE=${env.KO_DEFAULTBASEIMAGE}\nPWD=${path.join(work, 'ctx')}\n`);
  });

  test('prints numbered steps', async () => {
    await build();
    const steps = log.filter(l => l.startsWith('[build '));
    expect(steps).toHaveLength(5);
    expect(steps[0]).toBe('[build 1/5] preflight: inputs, lock, tools, registry');
    expect(steps[1]).toBe(`[build 2/5] ko build (KO_DOCKER_REPO=${registry.host}/acme/todo)`);
    expect(steps[2]).toBe(`[build 3/5] verify ${registry.host}/acme/todo@${DIGEST} is in the registry`);
    expect(log).toContain('  found (HTTP HEAD)');
  });

  test('checks the digest with a HEAD that accepts OCI and Docker manifests', async () => {
    registry.requests.length = 0;
    await build();
    const head = registry.requests.find(r => r.startsWith('HEAD '))!;
    expect(head).toContain(`/v2/acme/todo/manifests/${DIGEST}`);
    for (const type of ['oci.image.index.v1', 'oci.image.manifest.v1', 'docker.distribution.manifest.v2', 'docker.distribution.manifest.list.v2']) {
      expect(head).toContain(type);
    }
  });

  test('records the git commit and tags the image with it', async () => {
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { cwd: path.join(work, 'ctx'), encoding: 'utf-8', env: { ...env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout.trim();
    };
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'x');
    const head = git('rev-parse', 'HEAD');
    await build();
    expect(readLock().images.todo).toMatchObject({ sourceCommit: head, tag: `sha-${head.slice(0, 12)}` });
  });
});

describe('Dockerfile builders', () => {
  test('kaniko: runs the executor and reads both of its digest files', async () => {
    await build({ builder: 'kaniko', tag: 't1', buildArgs: { GO_IMAGE: 'go:1' } });
    const args = fs.readFileSync(env.FAKE_ARGS!, 'utf-8').trim().split('\n');
    expect(argAfter(args, '--context')).toBe(`dir://${path.join(work, 'ctx')}`);
    expect(argAfter(args, '--dockerfile')).toBe(path.join(work, 'ctx', 'Dockerfile'));
    expect(argAfter(args, '--destination')).toBe(`${registry.host}/acme/todo:t1`);
    expect(argAfter(args, '--build-arg')).toBe('GO_IMAGE=go:1');
    expect(readLock().images.todo).toEqual({ repository: `${registry.host}/acme/todo`, tag: 't1', digest: DIGEST, builder: 'kaniko' });
  });

  test('buildah: builds, then pushes with a digest file', async () => {
    await build({ builder: 'buildah', tag: 't2' });
    const calls = fs.readFileSync(env.FAKE_ARGS!, 'utf-8').trim().split('\n---').map(c => c.trim().split('\n')).filter(c => c[0] !== '');
    expect(calls.map(c => c[0])).toEqual(['build', 'push']);
    expect(calls[1]).toContain(`docker://${registry.host}/acme/todo:t2`);
    expect(readLock().images.todo).toMatchObject({ builder: 'buildah', digest: DIGEST, tag: 't2' });
    expect(appImage('prod')).toBe(`${registry.host}/acme/todo@${DIGEST}`);
  });
});

describe('Docker daemon builders', () => {
  const calls = () => fs.readFileSync(env.FAKE_ARGS!, 'utf-8').trim().split('\n---').map(c => c.trim().split('\n')).filter(c => c[0] !== '');

  test('docker: BuildKit build, push, and the digest docker push printed', async () => {
    await build({ builder: 'docker', tag: 't3', buildArgs: { GO_IMAGE: 'go:1' } });
    expect(calls().map(c => c[0])).toEqual(['build', 'push']);
    expect(argAfter(calls()[0], '--build-arg')).toBe('GO_IMAGE=go:1');
    expect(calls()[1]).toEqual(['push', `${registry.host}/acme/todo:t3`]);
    expect(readLock().images.todo).toEqual({ repository: `${registry.host}/acme/todo`, tag: 't3', digest: DIGEST, builder: 'docker' });
    expect(appImage('prod')).toBe(`${registry.host}/acme/todo@${DIGEST}`);
  });

  test('buildpacks: the creator in the builder image, build args as platform env, digest from report.toml', async () => {
    fs.rmSync(path.join(work, 'ctx', 'Dockerfile'));
    await build({ builder: 'buildpacks', tag: 't4', buildArgs: { GOPROXY: 'http://127.0.0.1:1', BP_GO_VERSION: '1.26.8' } });
    const [run] = calls();
    expect(run.slice(0, 4)).toEqual(['run', '--rm', '--network', 'host']);
    expect(run).toContain(env.CNB_BUILDER_IMAGE);
    expect(argAfter(run, env.CNB_BUILDER_IMAGE!)).toBe('/cnb/lifecycle/creator');
    expect(run[run.length - 1]).toBe(`${registry.host}/acme/todo:t4`);
    expect(fs.readFileSync(env.FAKE_ENV!, 'utf-8')).toBe('BP_GO_VERSION=1.26.8\nGOPROXY=http://127.0.0.1:1\n');
    expect(readLock().images.todo).toEqual({ repository: `${registry.host}/acme/todo`, tag: 't4', digest: DIGEST, builder: 'buildpacks' });
    expect(helmImage('staging')).toBe(`${registry.host}/acme/todo@${DIGEST}`);
  });
});

describe('a failed build leaves the lock, dist/, helm/ and tanka/ byte-identical', () => {
  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>(r => server.close(() => r()));
    return port;
  }

  const CASES: Array<[string, () => Promise<Partial<ImageBuildOptions>>, number, RegExp]> = [
    ['builder tool missing', async () => { fs.rmSync(path.join(bin, 'ko')); return {}; }, 1, /ko not found on PATH/],
    ['go missing for ko', async () => { fs.rmSync(path.join(bin, 'go')); return {}; }, 1, /go not found on PATH/],
    ['kaniko executor missing', async () => { env.KANIKO_EXECUTOR = '/nonexistent/executor'; return { builder: 'kaniko' }; }, 1,
      /kaniko executor \/nonexistent\/executor not found: kaniko runs inside its own image .*or to a wrapper that runs the executor image in a container/],
    ['docker client missing', async () => { env.DOCKER_CLI = '/nonexistent/docker'; return { builder: 'docker' }; }, 1,
      /docker client \/nonexistent\/docker not found: install Docker \(Debian: apt-get install docker\.io\), or set DOCKER_CLI/],
    ['docker client missing for buildpacks', async () => { env.DOCKER_CLI = '/nonexistent/docker'; return { builder: 'buildpacks' }; }, 1,
      /docker client \/nonexistent\/docker not found: install Docker/],
    ['no builder image for buildpacks', async () => { delete env.CNB_BUILDER_IMAGE; return { builder: 'buildpacks' }; }, 1,
      /CNB_BUILDER_IMAGE is not set: set it to a buildpacks builder image by digest \(a builder with the CNB lifecycle/],
    ['a Dockerfile for buildpacks', async () => ({ builder: 'buildpacks', dockerfile: path.join(work, 'ctx', 'Dockerfile') }), 1, /buildpacks builds without a Dockerfile; drop --dockerfile/],
    ['docker push prints no digest', async () => { env.FAKE_MODE = 'nodigest'; return { builder: 'docker' }; }, 2,
      /docker push printed no "latest: digest: sha256:\.\.\. size: N" line; its output ended with: The push refers to repository \[x\]/],
    ['no buildpack group accepts the source', async () => { env.FAKE_MODE = 'refused'; return { builder: 'buildpacks' }; }, 2,
      /fake-docker exited with status 20; last output:\n.*No buildpack groups passed detection/],
    ['registry unreachable', async () => ({ repository: `127.0.0.1:${await closedPort()}/acme/todo` }), 1,
      /cannot reach registry at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
    ['lock not JSON', async () => { fs.writeFileSync(path.join(work, 'images.lock.json'), '{"version": 1,'); return {}; }, 1, /is not valid JSON/],
    ['invalid repository', async () => ({ repository: 'ghcr.io/acme/todo:v1' }), 1, /--repository "ghcr.io\/acme\/todo:v1" is not a valid image repository/],
    ['build args for ko', async () => ({ buildArgs: { A: 'b' } }), 1, /ko builds from the Go module and uses no Dockerfile/],
    ['missing Dockerfile', async () => { fs.rmSync(path.join(work, 'ctx', 'Dockerfile')); return { builder: 'buildah' }; }, 1, /Dockerfile .* does not exist/],
    ['build error', async () => { env.FAKE_MODE = 'fail'; return {}; }, 2,
      /ko build .*: ko exited with status 1; last output:\n(.*\n)*.*undefined: foo\n.*failed to publish images/],
    ['malformed digest output', async () => { env.FAKE_MODE = 'garbage'; return {}; }, 2, /ko's --image-refs file holds "not a reference", which has no @sha256/],
    ['no digest output', async () => { env.FAKE_MODE = 'norefs'; return {}; }, 2, /ko finished but did not write .*ko-image-refs \(ENOENT\)/],
    ['pushed to another repository', async () => { env.FAKE_MODE = 'elsewhere'; return {}; }, 3, /ko pushed to ghcr.io\/someone\/else, but --repository is/],
    ['digest not in the registry', async () => { registry.manifests.clear(); return {}; }, 3, /is not in the registry \(HEAD http:\/\/.*\/v2\/acme\/todo\/manifests\/sha256:\w+ answered 404\)/],
    ['synth failure', async () => {
      const lock = JSON.parse(fs.readFileSync(path.join(work, 'images.lock.json'), 'utf-8'));
      delete lock.images.postgres;
      fs.writeFileSync(path.join(work, 'images.lock.json'), JSON.stringify(lock));
      return {};
    }, 4, /image "postgres" is not pinned/],
    // Step 5 moves dist/, the chart, the Tanka project and the lock into place in that order; a
    // rename that fails part-way must move back what was already installed. A non-empty directory
    // where the old target is set aside makes that rename fail: for the chart, the project, the lock.
    ['install fails at the chart, after dist/ was installed', async () => {
      fs.mkdirSync(path.join(work, 'helm', `todo.old-${process.pid}`, 'blocker'), { recursive: true });
      return {};
    }, 5, /ENOTEMPTY|EEXIST/],
    ['install fails at the Tanka project, after dist/ and the chart were installed', async () => {
      fs.mkdirSync(path.join(work, `tanka.old-${process.pid}`, 'blocker'), { recursive: true });
      return {};
    }, 5, /ENOTEMPTY|EEXIST/],
    ['install fails at the lock, after dist/, the chart and the Tanka project were installed', async () => {
      fs.mkdirSync(path.join(work, `images.lock.json.old-${process.pid}`, 'blocker'), { recursive: true });
      return {};
    }, 5, /EISDIR|ENOTEMPTY|EEXIST/],
  ];

  test.each(CASES)('%s', async (_what, arrange, step, message) => {
    const overrides = await arrange();
    const before = outputs();
    const error = await build(overrides).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageBuildError);
    expect((error as ImageBuildError).step).toBe(step);
    expect((error as ImageBuildError).message).toMatch(new RegExp(`^image build failed at step ${step}/5 \\(`));
    expect((error as ImageBuildError).message).toMatch(message);
    expect(outputs()).toEqual(before);
    expect(leftovers().filter(f => !f.endsWith(`.old-${process.pid}`))).toEqual([]);
  });
});

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 200 && !fs.existsSync(file); i++) await new Promise(r => setTimeout(r, 50));
}

test('aborting stops the build tool and leaves everything as it was', async () => {
  env.FAKE_MODE = 'sleep';
  const before = outputs();
  const controller = new AbortController();
  const started = Date.now();
  const runtime = { repository: TODO_REPOSITORY, env, log: () => undefined, output: () => undefined, signal: controller.signal };
  const pending = buildImage(options(), runtime);
  await waitForFile(env.FAKE_ENV!);
  controller.abort('SIGINT');
  const error = await pending.then(() => undefined, (e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(20_000);
  expect((error as Error).message).toMatch(/^image build failed at step 2\/5 \(ko build .*\): interrupted \(SIGINT\): ko was killed by SIGTERM/);
  expect(outputs()).toEqual(before);
  expect(leftovers()).toEqual([]);
});

describe('the CLI', () => {
  // Asynchronous: the fake registry runs in this process and must keep answering.
  type CliResult = { status: number | null; stdout: string; stderr: string };
  const cli = (args: string[], started?: (child: ChildProcess) => void) => new Promise<CliResult>((resolve, reject) => {
    // What `npm run build:image` runs: this repository's CLI (compiled first when a source changed).
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run-compiled.js'), 'todo/cli.ts', 'build-image', ...args], {
      cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('close', status => resolve({ status, stdout, stderr }));
    started?.(child);
  });
  const common = () => ['--context', 'ctx', '--lock', 'images.lock.json', '--outdir', 'dist'];

  test('prints the pinned reference on stdout and exits 0', async () => {
    const r = await cli(['--builder', 'ko', '--repository', `${registry.host}/acme/todo`, ...common()]);
    expect(r.stderr).toContain(`[build 2/5] ko build (KO_DOCKER_REPO=${registry.host}/acme/todo)`);
    expect(r.stdout).toBe(`${registry.host}/acme/todo@${DIGEST}\n`);
    expect(r.status).toBe(0);
  });

  test('exits 1 naming the failed step, files untouched', async () => {
    const before = outputs();
    env.FAKE_MODE = 'fail';
    const r = await cli(['--builder', 'ko', '--repository', `${registry.host}/acme/todo`, ...common()]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/image build failed at step 2\/5 \(ko build .*\): ko exited with status 1/);
    expect(r.stderr).toContain('images.lock.json, dist/, helm/todo/ and tanka/ were left unchanged.');
    expect(outputs()).toEqual(before);
  });

  test('SIGINT stops the build, exits 130, files untouched', async () => {
    env.FAKE_MODE = 'sleep';
    const before = outputs();
    const pending = cli(['--builder', 'ko', '--repository', `${registry.host}/acme/todo`, ...common()], child => {
      void waitForFile(env.FAKE_ENV!).then(() => child.kill('SIGINT'));
    });
    const r = await pending;
    expect(r.status).toBe(130);
    expect(r.stderr).toContain('SIGINT: stopping; files are left as they were');
    expect(r.stderr).toMatch(/image build failed at step 2\/5 .*interrupted \(SIGINT\)/);
    expect(outputs()).toEqual(before);
    expect(leftovers()).toEqual([]);
  });

  test('a usage error exits 1 with the usage', async () => {
    const r = await cli(['--builder', 'podman']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: --builder "podman" is not one of ko, kaniko, buildah, docker, buildpacks\n\nusage: build-image/);
  });

  test('--help lists every builder', async () => {
    const r = await cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--builder ko|kaniko|buildah|docker|buildpacks --repository REPO');
    for (const builder of ['ko (Go module', 'kaniko (Dockerfile', 'buildah (Dockerfile', 'docker (Dockerfile', 'buildpacks (no Dockerfile']) {
      expect(r.stdout).toContain(builder);
    }
  });

  test('a missing docker client exits 1 naming it and how to get it, files untouched', async () => {
    const before = outputs();
    env.DOCKER_CLI = path.join(work, 'no-such-docker');
    const r = await cli(['--builder', 'docker', '--repository', `${registry.host}/acme/todo`, ...common()]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/image build failed at step 1\/5 \(preflight.*\): docker client .*no-such-docker not found: install Docker \(Debian: apt-get install docker\.io/);
    expect(r.stderr).toContain('images.lock.json, dist/, helm/todo/ and tanka/ were left unchanged.');
    expect(outputs()).toEqual(before);
  });
});
