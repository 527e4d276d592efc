/**
 * End-to-end test of the image build: real ko, buildah, kaniko, docker and
 * buildpacks builds pushed to a real (local) registry, the manifests re-synthesized by the build CLI,
 * and the built binary run with exactly the environment the synthesized
 * Deployment gives it, against a real Postgres. kaniko never runs on the host:
 * the CLI runs test/tools/images/kaniko-executor.sh as KANIKO_EXECUTOR, which
 * runs /kaniko/executor in a runc container on a private copy of the executor
 * image that test/tools/images/build.sh kaniko builds from the vendored source.
 * docker and buildpacks run on Debian's dockerd, started in a network and mount
 * namespace of its own (test/e2e/docker-support.ts); buildpacks runs the CNB
 * lifecycle v0.20.8 creator in the builder image buildpacks/build-builder.sh
 * makes, with the Go toolchain and modules from a GOPROXY served from this
 * machine's module cache.
 *
 *   npx ts-node test/e2e/image-build.ts          # ~4-8 min on 2 cores
 *   E2E_SKIP_BUILDAH=1 E2E_SKIP_KANIKO=1 E2E_ALLOW_SKIP=1 npx ts-node test/e2e/image-build.ts   # ko, docker, buildpacks
 *   E2E_SKIP_BUILDAH=1 E2E_SKIP_KANIKO=1 E2E_SKIP_DOCKER=1 E2E_ALLOW_SKIP=1 npx ts-node test/e2e/image-build.ts   # ko only
 *
 * Needs: go, network to the Go module proxy and Debian apt (tools are
 * installed by test/tools/install.sh), root for buildah's chroot isolation and
 * for runc and dockerd (network namespaces); for kaniko also runc, and the kaniko source tarball
 * (KANIKO_SOURCE_TARBALL, default <repo>/../shared/kaniko/kaniko-v1.25.5.tar.gz;
 * the kaniko steps are reported as skipped when it is missing).
 * Everything runs on 127.0.0.1 and in temporary directories; the real
 * images.lock.json and dist/ are only read (and checked to be untouched).
 * Prints "[e2e i/N] ..." progress and ends with "N passed, N failed"
 * (", N skipped" when E2E_SKIP_BUILDAH=1, E2E_SKIP_KANIKO=1, a missing kaniko
 * source, E2E_SKIP_DOCKER=1 (docker and buildpacks), E2E_SKIP_BUILDPACKS=1 or
 * a failure skipped steps); the exit status is 1 if anything failed,
 * or anything was skipped without E2E_ALLOW_SKIP=1.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { DOCKER_CLI, DockerDaemon, hostDockerFiles, hostDockerTraces, startDockerDaemon } from './docker-support';
import {
  ROOT, RunResult, check, e2eMain, equal, freePort, hashTree, installTools, isExecutable, onCleanup, portInUse,
  progress, requireTools, run, section, skipSteps, stopProcess, waitFor,
} from './harness';
import { KANIKO_SOURCE_TARBALL, makeBaseImage, makeGoBuilderImage, startGoProxy, startRegistry } from './registry-support';

const APP = path.join(ROOT, 'app');
const POSTGRES_SH = path.join(ROOT, 'test', 'support', 'postgres.sh');
/** What `npm run build:image` runs: the compiled CLI, compiled first when src/ changed. */
const LAUNCHER = path.join(ROOT, 'scripts', 'run-compiled.js');
const SKIP_BUILDAH = process.env.E2E_SKIP_BUILDAH === '1';
const SKIP_KANIKO = process.env.E2E_SKIP_KANIKO === '1';
const SKIP_DOCKER = process.env.E2E_SKIP_DOCKER === '1';
const SKIP_BUILDPACKS = process.env.E2E_SKIP_BUILDPACKS === '1';
/** Runs the kaniko executor in a runc container; what KANIKO_EXECUTOR points at. */
const KANIKO_WRAPPER = path.join(ROOT, 'test', 'tools', 'images', 'kaniko-executor.sh');
// The buildah and kaniko steps count even when they are skipped: the summary then says so.
const STEPS = 29;

// ------------------------------------------------------------ test state ---

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-image-build-'));
// postgres.sh runs the server as the postgres user, which must reach its directory.
fs.chmodSync(tmp, 0o755);
const work = path.join(tmp, 'work');
let toolEnv: NodeJS.ProcessEnv = process.env;
let registry = '';
let baseImage = '';
let pg: Record<string, string> = {};
/** The Go image app/Dockerfile's build stage runs in (GO_IMAGE), made once for buildah and kaniko. */
let goImage = '';
/** Tasks the service runs so far have left in the shared Postgres (each adds "<label>-kept"). */
let tasksSoFar: string[] = [];
const realHashes: Record<string, string> = {};

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...toolEnv, ...extra };
}

function isOnPath(tool: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(path.delimiter).some(d => d !== '' && isExecutable(path.join(d, tool)));
}

/** Runs the build CLI as a user would; its progress is echoed with a prefix. */
function buildCli(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(process.execPath, [LAUNCHER, 'todo/cli.ts', 'build-image', ...args,
    '--lock', path.join(work, 'images.lock.json'), '--outdir', path.join(work, 'dist'), '--helm-dir', path.join(work, 'helm')], { env, allowFail: true, echo: '    | ' });
}

function lockEntry(): { repository: string; digest: string; tag?: string; builder: string; sourceCommit?: string } {
  return JSON.parse(fs.readFileSync(path.join(work, 'images.lock.json'), 'utf-8')).images.todo;
}

function manifests(environment: string): any[] {
  const file = path.join(work, 'dist', environment, `todo-${environment}.k8s.yaml`);
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8')).map(d => d.toJS()).filter(Boolean);
}

function appContainer(objects: any[]): any {
  const deployment = objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'todo');
  if (!deployment) throw new Error('no Deployment "todo"');
  const app = deployment.spec.template.spec.containers.find((c: any) => c.name === 'app');
  if (!app) throw new Error('Deployment "todo" has no container "app"');
  return app;
}

/** Asserts every environment's Deployment pins exactly what the registry has under the pushed tag. */
async function assertPinned(builder: string): Promise<string> {
  const entry = lockEntry();
  equal(`lock entry todo was written by ${builder}`, entry.builder, builder);
  equal('lock entry todo points at the local registry', entry.repository, `${registry}/acme/todo`);
  const remote = (await run('crane', ['digest', `${registry}/acme/todo:${entry.tag}`], { env: toolEnv })).stdout.trim();
  equal(`crane digest ${registry}/acme/todo:${entry.tag} is the locked digest`, remote, entry.digest);
  const reference = `${registry}/acme/todo@${remote}`;
  for (const environment of ['dev', 'staging', 'prod']) {
    equal(`dist/${environment} Deployment todo pins ${reference}`, appContainer(manifests(environment)).image, reference);
  }
  return reference;
}

/**
 * Exports the image's whole filesystem and returns a script that runs its
 * entrypoint in it (chroot) as the image's user: for entrypoints that are not
 * static binaries on their own, like the buildpacks launcher, which reads
 * /layers and execs the process the buildpacks set.
 */
async function extractImage(reference: string, label: string, expectedEntrypoint: string): Promise<string> {
  const config = JSON.parse((await run('crane', ['config', reference], { env: toolEnv })).stdout);
  equal(`${label} image entrypoint`, config.config?.Entrypoint, [expectedEntrypoint]);
  const user = String(config.config?.User ?? '');
  check(`${label} image user ${user} is numeric and not root (runAsNonRoot can verify it)`, /^[1-9][0-9]*(:[0-9]+)?$/.test(user));
  const rootfs = path.join(tmp, `rootfs-${label}`);
  fs.mkdirSync(rootfs);
  const tarball = path.join(tmp, `${label}.tar`);
  await run('crane', ['export', reference, tarball], { env: toolEnv });
  await run('tar', ['--numeric-owner', '-xf', tarball, '-C', rootfs]);
  fs.rmSync(tarball);
  const uid = user.split(':')[0];
  // As a container runtime does: the image's Env first, the Deployment's variables win.
  const imageEnv = (config.config?.Env ?? []).map((e: string) => {
    const eq = e.indexOf('=');
    return `: "\${${e.slice(0, eq)}=${e.slice(eq + 1).replace(/["$`\\]/g, '\\$&')}}"; export ${e.slice(0, eq)}\n`;
  }).join('');
  const wrapper = path.join(tmp, `run-${label}.sh`);
  fs.writeFileSync(wrapper, `#!/bin/sh\n${imageEnv}exec /usr/sbin/chroot --userspec=${uid}:${user.split(':')[1] ?? uid} ${rootfs} ${expectedEntrypoint}\n`, { mode: 0o755 });
  return wrapper;
}

/** Exports the image's filesystem and returns its entrypoint binary, checked for platform and user. */
async function extractEntrypoint(reference: string, label: string, expectedEntrypoint: string): Promise<string> {
  const config = JSON.parse((await run('crane', ['config', reference], { env: toolEnv })).stdout);
  equal(`${label} image platform`, `${config.os}/${config.architecture}`, 'linux/amd64');
  equal(`${label} image entrypoint`, config.config?.Entrypoint, [expectedEntrypoint]);
  equal(`${label} image runs as 65532`, String(config.config?.User ?? '').split(':')[0], '65532');
  const rootfs = path.join(tmp, `rootfs-${label}`);
  fs.mkdirSync(rootfs);
  const tarball = path.join(tmp, `${label}.tar`);
  await run('crane', ['export', reference, tarball], { env: toolEnv });
  // Layer tars name members "ko-app/todo", "./todo" or "/ko-app/todo" depending on the builder.
  const members = (await run('tar', ['-tf', tarball])).stdout.split('\n');
  const member = members.find(m => m.replace(/^\.?\/+/, '') === expectedEntrypoint.slice(1));
  if (!member) throw new Error(`${expectedEntrypoint} is not in the exported ${label} image; it has ${members.filter(Boolean).slice(0, 20).join(', ')}`);
  await run('tar', ['-xf', tarball, '-C', rootfs, member]);
  fs.rmSync(tarball);
  const binary = path.join(rootfs, expectedEntrypoint);
  check(`${label} image holds an executable ${expectedEntrypoint}`, isExecutable(binary));
  return binary;
}

/**
 * The service's environment exactly as the prod Deployment defines it (ConfigMap
 * via envFrom, then env), with the Secret references and the database address
 * swapped for the test server.
 */
function deploymentEnv(): { env: Record<string, string>; port: number; readiness: string; liveness: string } {
  const objects = manifests('prod');
  const app = appContainer(objects);
  const env: Record<string, string> = {};
  for (const from of app.envFrom ?? []) {
    const cm = objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    if (!cm) throw new Error(`envFrom references ConfigMap ${from.configMapRef?.name}, which is not in dist/prod`);
    Object.assign(env, cm.data);
  }
  const secretValues: Record<string, string> = { PGUSER: pg.PGUSER, PGPASSWORD: pg.PGPASSWORD };
  for (const e of app.env ?? []) {
    if (e.value !== undefined) {env[e.name] = e.value;} else if (e.valueFrom?.secretKeyRef) {
      if (!(e.name in secretValues)) throw new Error(`unexpected secret variable ${e.name}`);
      env[e.name] = secretValues[e.name];
    } else {throw new Error(`env ${e.name} has an unsupported source ${JSON.stringify(e.valueFrom)}`);}
  }
  check('Deployment passes PGUSER and PGPASSWORD from a Secret', (app.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name).sort().join() === 'PGPASSWORD,PGUSER');
  equal('Deployment env names are the ones the service reads', Object.keys(env).sort(),
    ['LOG_LEVEL', 'PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGSSLMODE', 'PGUSER', 'PORT']);
  equal('Deployment PGDATABASE is the database the test server created', env.PGDATABASE, pg.PGDATABASE);
  env.PGHOST = pg.PGHOST;
  env.PGPORT = pg.PGPORT;
  const http = app.ports.find((p: any) => p.name === 'http');
  equal('containerPort "http" is the PORT the ConfigMap sets', String(http?.containerPort), env.PORT);
  for (const probe of ['readinessProbe', 'livenessProbe']) equal(`${probe} targets the "http" port`, app[probe]?.httpGet?.port, 'http');
  return { env, port: Number(env.PORT), readiness: app.readinessProbe.httpGet.path, liveness: app.livenessProbe.httpGet.path };
}

/** Starts the binary with only the Deployment's environment; output goes to a log file. */
function startService(binary: string, env: Record<string, string>, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(binary, [], { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  onCleanup(`stop ${path.basename(logFile)}`, async () => { await stopProcess(child, 3000); });
  return child;
}

async function api(port: number, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json: any;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
  return { status: res.status, json };
}

/** The `io.buildpacks.build.metadata` label of an image the lifecycle exported: its buildpacks and processes. */
async function buildMetadata(reference: string): Promise<any> {
  const config = JSON.parse((await run('crane', ['config', reference], { env: toolEnv })).stdout);
  return JSON.parse(config.config?.Labels?.['io.buildpacks.build.metadata'] ?? '{}');
}

/**
 * The steps each builder ends with: every environment pins the digest the
 * registry reports, and the image's binary serves the API with the
 * Deployment's environment against the Postgres the earlier builds used.
 */
function pinnedAndRunSteps(builder: string, entrypoint: string, wholeImage = false): Array<[string, () => Promise<void>]> {
  return [
    [`${builder}: every environment pins the digest the registry reports`, async () => {
      await assertPinned(builder);
    }],
    [`${builder}: export the image and run ${entrypoint}${wholeImage ? ' (chroot, as the image user)' : ''} with the Deployment's env against Postgres`, async () => {
      const reference = `${registry}/acme/todo@${lockEntry().digest}`;
      const binary = wholeImage ? await extractImage(reference, builder, entrypoint) : await extractEntrypoint(reference, builder, entrypoint);
      await exerciseService(binary, builder, tasksSoFar);
      tasksSoFar = [...tasksSoFar, `${builder}-kept`];
    }],
  ];
}

/** Runs the service from `binary` with the Deployment's env and drives its API, across a restart. */
async function exerciseService(binary: string, label: string, tasksExpectedBefore: string[]): Promise<void> {
  const d = deploymentEnv();
  let port = d.port;
  if (await portInUse(port)) {
    // The service binds all interfaces; if another process has the port, the env
    // name is what matters here, so move it rather than fail.
    port = await freePort();
    progress(`  note: port ${d.port} is busy on this machine; running with PORT=${port}`);
    d.env.PORT = String(port);
  }
  // No drain delay on SIGTERM (5 s by default, twice per builder): it keeps a pod serving while
  // Kubernetes takes it out of the endpoints, and there are none here (app/main_test.go covers it).
  const env = { ...d.env, SHUTDOWN_DELAY: '0s' };
  const logFile = path.join(tmp, `service-${label}.log`);
  const ready = async () => (await api(port, 'GET', d.readiness)).status === 200;
  let child = startService(binary, env, logFile);
  const logTail = () => fs.readFileSync(logFile, 'utf-8').trim().split('\n').slice(-10).join('\n');
  try {
    await waitFor(`${d.readiness} to answer 200`, 60_000, async () => {
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}`);
      return ready();
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; service log:\n${logTail()}`);
  }
  check(`${label}: readinessProbe path ${d.readiness} answers 200 with the Deployment's env`, true);
  equal(`${label}: livenessProbe path ${d.liveness}`, (await api(port, 'GET', d.liveness)).status, 200);

  const names = (tasks: any[]) => tasks.map(t => t.name);
  const before = await api(port, 'GET', '/tasks');
  equal(`${label}: GET /tasks before`, [before.status, names(before.json)], [200, tasksExpectedBefore]);
  const temp = await api(port, 'PUT', '/tasks', { name: `${label}-temporary` });
  const keep = await api(port, 'PUT', '/tasks', { name: `${label}-kept` });
  equal(`${label}: PUT /tasks twice`, [temp.status, keep.status, temp.json?.name, keep.json?.name], [201, 201, `${label}-temporary`, `${label}-kept`]);
  const listed = await api(port, 'GET', '/tasks');
  equal(`${label}: GET /tasks lists both`, names(listed.json), [...tasksExpectedBefore, `${label}-temporary`, `${label}-kept`]);
  equal(`${label}: DELETE /tasks/{id}`, (await api(port, 'DELETE', `/tasks/${temp.json?.id}`)).status, 204);
  equal(`${label}: DELETE again is 404`, (await api(port, 'DELETE', `/tasks/${temp.json?.id}`)).status, 404);

  equal(`${label}: SIGTERM exits 0`, await stopProcess(child), 0);
  child = startService(binary, env, logFile);
  await waitFor(`${d.readiness} after restart`, 60_000, ready);
  const after = await api(port, 'GET', '/tasks');
  equal(`${label}: after a restart the data persisted`, names(after.json), [...tasksExpectedBefore, `${label}-kept`]);
  equal(`${label}: SIGTERM after restart exits 0`, await stopProcess(child), 0);
}

// ----------------------------------------------------------------- steps ---

async function ensureGoBuilderImage(): Promise<string> {
  if (!goImage) goImage = await makeGoBuilderImage(tmp, registry, APP, toolEnv);
  return goImage;
}

async function main(): Promise<void> {
  const core = await section([
    ['install/find tools (ko, crane, buildah, postgres) with test/tools/install.sh', async () => {
      toolEnv = await installTools(['ko', 'crane', 'debs', ...(SKIP_DOCKER ? [] : ['docker'])]);
      await requireTools(toolEnv, ['ko', 'crane', 'go', ...(SKIP_BUILDAH ? [] : ['buildah'])]);
    }],
    ['start a registry: crane registry serve on 127.0.0.1', async () => {
      registry = await startRegistry(tmp, toolEnv);
    }],
    ['make a base image from scratch (passwd/group with nonroot 65532, CA roots) and push it', async () => {
      baseImage = await makeBaseImage(tmp, registry, toolEnv);
    }],
    ['copy images.lock.json and dist/ into a temporary working copy', async () => {
      for (const f of ['images.lock.json', 'dist']) realHashes[f] = hashTree(path.join(ROOT, f));
      fs.mkdirSync(work);
      fs.copyFileSync(path.join(ROOT, 'images.lock.json'), path.join(work, 'images.lock.json'));
      if (fs.existsSync(path.join(ROOT, 'dist'))) fs.cpSync(path.join(ROOT, 'dist'), path.join(work, 'dist'), { recursive: true });
      check('working copy has a lock', fs.existsSync(path.join(work, 'images.lock.json')));
    }],
    ['start Postgres with test/support/postgres.sh', async () => {
      const dir = path.join(tmp, 'pg');
      onCleanup('stop Postgres', async () => { await run('bash', [POSTGRES_SH, 'stop', dir], { allowFail: true }); });
      const out = (await run('bash', [POSTGRES_SH, 'start', dir], { env: toolEnv })).stdout.trim();
      for (const m of out.matchAll(/(PG[A-Z]+)=(\S+)/g)) pg[m[1]] = m[2];
      check(`Postgres on ${pg.PGHOST}:${pg.PGPORT}`, pg.PGHOST === '127.0.0.1' && !!pg.PGPORT && !!pg.PGPASSWORD);
    }],
  ]);
  if (!core) return;

  await section([
    ['a build against an unreachable registry fails and leaves the lock and dist/ untouched', async () => {
      const before = [hashTree(path.join(work, 'images.lock.json')), hashTree(path.join(work, 'dist'))];
      const r = await buildCli(['--builder', 'ko', '--repository', `127.0.0.1:${await freePort()}/acme/todo`], cliEnv());
      equal('exit status', r.code, 1);
      check('error names the step and the cause', /image build failed at step 1\/5 \(preflight.*\): cannot reach registry at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test(r.stderr), r.stderr.slice(-400));
      equal('lock and dist/ byte-identical', [hashTree(path.join(work, 'images.lock.json')), hashTree(path.join(work, 'dist'))], before);
    }],
    ['ko: build, push, verify and re-synth with the build CLI', async () => {
      const r = await buildCli(['--builder', 'ko', '--repository', `${registry}/acme/todo`], cliEnv({ KO_DEFAULTBASEIMAGE: baseImage }));
      if (!check('build CLI exits 0', r.code === 0, r.stderr.slice(-1500))) return;
      check('progress shows the ko step', r.stderr.includes(`[build 2/5] ko build (KO_DOCKER_REPO=${registry}/acme/todo, KO_DEFAULTBASEIMAGE=${baseImage})`));
      equal('stdout is the pinned reference', r.stdout.trim(), `${registry}/acme/todo@${lockEntry().digest}`);
    }],
    ...pinnedAndRunSteps('ko', '/ko-app/todo'),
  ]);

  {
    const storage = path.join(tmp, 'containers');
    const buildahEnv = () => cliEnv({
      CONTAINERS_STORAGE_CONF: path.join(storage, 'storage.conf'),
      // Root in a container without a daemon: chroot isolation and vfs storage need no extra privileges.
      BUILDAH_ISOLATION: 'chroot',
    });
    const buildahSteps: Array<[string, () => Promise<void>]> = [
      ['buildah: make a Go builder image (busybox-static, host Go, pre-downloaded modules) and push it', async () => {
        await ensureGoBuilderImage();
        fs.mkdirSync(storage);
        fs.writeFileSync(path.join(storage, 'storage.conf'),
          `[storage]\ndriver = "vfs"\ngraphroot = "${path.join(storage, 'root')}"\nrunroot = "${path.join(storage, 'run')}"\n`);
        onCleanup('remove buildah storage', async () => {
          await run('buildah', ['rm', '--all'], { env: buildahEnv(), allowFail: true });
          await run('buildah', ['rmi', '--all', '--force'], { env: buildahEnv(), allowFail: true });
          fs.rmSync(storage, { recursive: true, force: true });
        });
      }],
      ['buildah: build the Dockerfile (GO_IMAGE=local Go image), push, verify and re-synth', async () => {
        const r = await buildCli(['--builder', 'buildah', '--repository', `${registry}/acme/todo`, '--build-arg', `GO_IMAGE=${goImage}`], buildahEnv());
        if (!check('build CLI exits 0', r.code === 0, r.stderr.slice(-2500))) return;
        check('progress shows the buildah step', r.stderr.includes(`[build 2/5] buildah build + push docker://${registry}/acme/todo:`));
      }],
      ...pinnedAndRunSteps('buildah', '/todo'),
    ];
    // Reported as skipped (and counted), so a ko-only run never reads as the full proof.
    if (SKIP_BUILDAH) skipSteps(buildahSteps.map(([title]) => title), 'E2E_SKIP_BUILDAH=1');
    else await section(buildahSteps);
  }

  {
    let kanikoImage = '';
    const kanikoSteps: Array<[string, () => Promise<void>]> = [
      ['kaniko: build the executor image with test/tools/images/build.sh kaniko (vendored source) and push it', async () => {
        await ensureGoBuilderImage();
        const r = await run('bash', [path.join(ROOT, 'test', 'tools', 'images', 'build.sh'), 'kaniko', registry],
          { env: { ...toolEnv, KANIKO_SOURCE_TARBALL }, echo: '    | ' });
        kanikoImage = r.stdout.trim().split('\n').pop() ?? '';
        check('build.sh prints the executor image by digest', new RegExp(`^${registry.replace(/\./g, '\\.')}/kaniko-project/executor@sha256:[0-9a-f]{64}$`).test(kanikoImage), r.stdout);
      }],
      ['kaniko: build the Dockerfile in a runc container (KANIKO_EXECUTOR=kaniko-executor.sh), push, verify and re-synth', async () => {
        const r = await buildCli(['--builder', 'kaniko', '--repository', `${registry}/acme/todo`, '--build-arg', `GO_IMAGE=${goImage}`],
          cliEnv({ KANIKO_EXECUTOR: KANIKO_WRAPPER, KANIKO_IMAGE: kanikoImage }));
        if (!check('build CLI exits 0', r.code === 0, r.stderr.slice(-2500))) return;
        check('progress shows the kaniko step', r.stderr.includes(`[build 2/5] kaniko ${KANIKO_WRAPPER} --destination ${registry}/acme/todo:`));
        check('the executor ran in a runc container with the build Job\'s capabilities',
          r.stderr.includes('[kaniko-executor] running /kaniko/executor in runc container') && r.stderr.includes('caps CHOWN,DAC_OVERRIDE,FOWNER,FSETID,SETGID,SETUID'));
        const rootfs = /\[kaniko-executor\] pulling .* into a private root filesystem \((\S+)\)/.exec(r.stderr)?.[1];
        check('the container\'s private root filesystem was removed', !!rootfs && !fs.existsSync(path.dirname(rootfs)), String(rootfs));
      }],
      ...pinnedAndRunSteps('kaniko', '/todo'),
    ];
    const titles = kanikoSteps.map(([title]) => title);
    const missing = ['runc'].filter(t => !isOnPath(t, toolEnv));
    // Reported as skipped (and counted): the run then fails unless E2E_ALLOW_SKIP=1.
    if (SKIP_KANIKO) skipSteps(titles, 'E2E_SKIP_KANIKO=1');
    else if (!fs.existsSync(KANIKO_SOURCE_TARBALL)) skipSteps(titles, `kaniko source ${KANIKO_SOURCE_TARBALL} not found (set KANIKO_SOURCE_TARBALL)`);
    else if (missing.length) skipSteps(titles, `${missing.join(', ')} not found`);
    else await section(kanikoSteps);
  }

  {
    let docker: DockerDaemon | undefined;
    let hostFilesBefore: string[] = [];
    let builderImage = '';
    let buildpacksSeconds: number[] = [];
    const dockerEnv = (extra: Record<string, string> = {}) => cliEnv({ DOCKER_HOST: docker!.host, DOCKER_CLI, ...extra });
    const goproxyArgs = () => ['--build-arg', `GOPROXY=http://127.0.0.1:${goproxyPort}`, '--build-arg', 'GOSUMDB=off'];
    let goproxyPort = 0;
    const dockerSteps: Array<[string, () => Promise<void>]> = [
      ['docker: start dockerd in its own network and mount namespaces (state in the test dir), reaching the registry', async () => {
        await ensureGoBuilderImage();
        equal('before: no docker bridge, route or iptables rule on the host', await hostDockerTraces(), []);
        hostFilesBefore = hostDockerFiles();
        docker = await startDockerDaemon(tmp);
        await docker.forward(Number(registry.split(':')[1]));
        const inside = (await run('ip', ['-n', docker.netns, '-o', 'link', 'show', 'docker0'], { allowFail: true })).stdout;
        check(`dockerd made its docker0 inside netns ${docker.netns}`, inside.includes('docker0'), inside);
        equal('running: still no docker bridge, route or iptables rule on the host', await hostDockerTraces(), []);
      }],
      ['docker: build the Dockerfile with BuildKit (GO_IMAGE=local Go image), push, verify and re-synth', async () => {
        const r = await buildCli(['--builder', 'docker', '--repository', `${registry}/acme/todo`, '--build-arg', `GO_IMAGE=${goImage}`], dockerEnv());
        if (!check('build CLI exits 0', r.code === 0, r.stderr.slice(-2500))) return;
        check('progress shows the docker step', r.stderr.includes(`[build 2/5] docker build (BuildKit) + docker push ${registry}/acme/todo:`));
      }],
      ...pinnedAndRunSteps('docker', '/todo'),
    ];
    const buildpacksSteps: Array<[string, () => Promise<void>]> = [
      ['buildpacks: make the builder image (lifecycle v0.20.8, buildpacks/, run image = the non-root base) and a GOPROXY', async () => {
        const lifecycleEnv = await installTools(['lifecycle']);
        const r = await run('bash', [path.join(ROOT, 'buildpacks', 'build-builder.sh'), `${registry}/cnb/builder`, baseImage], { env: { ...lifecycleEnv, ...toolEnv }, echo: '    | ' });
        builderImage = r.stdout.trim().split('\n').pop() ?? '';
        check('build-builder.sh prints the builder by digest', /@sha256:[0-9a-f]{64}$/.test(builderImage), r.stdout);
        goproxyPort = await startGoProxy(APP, toolEnv);
        await docker!.forward(goproxyPort);
      }],
      ['buildpacks: auto-detection refuses a source no group accepts, and picks the Procfile group for a Procfile', async () => {
        const refused = path.join(tmp, 'src-refused');
        fs.mkdirSync(refused);
        fs.writeFileSync(path.join(refused, 'README.md'), 'neither go.mod nor Procfile\n');
        const before = [hashTree(path.join(work, 'images.lock.json')), hashTree(path.join(work, 'dist'))];
        const r1 = await buildCli(['--builder', 'buildpacks', '--repository', `${registry}/acme/refused`, '--context', refused, '--name', 'refused'], dockerEnv({ CNB_BUILDER_IMAGE: builderImage }));
        equal('a source no group accepts: exit status 1', r1.code, 1);
        check('the lifecycle says no group passed detection, and each buildpack why',
          r1.stderr.includes('No buildpack groups passed detection') && r1.stderr.includes('acme/go: no go.mod in the source') && r1.stderr.includes('acme/procfile: no Procfile'), r1.stderr.slice(-1500));
        check('failed at step 2/5, lock and dist/ byte-identical', /image build failed at step 2\/5/.test(r1.stderr)
          && JSON.stringify([hashTree(path.join(work, 'images.lock.json')), hashTree(path.join(work, 'dist'))]) === JSON.stringify(before));
        const procfile = path.join(tmp, 'src-procfile');
        fs.mkdirSync(procfile);
        fs.writeFileSync(path.join(procfile, 'Procfile'), 'web: /workspace/serve --port 8080\n');
        const r2 = await buildCli(['--builder', 'buildpacks', '--repository', `${registry}/acme/procfile`, '--context', procfile, '--name', 'procfile'], dockerEnv({ CNB_BUILDER_IMAGE: builderImage }));
        if (!check('a Procfile source builds (exit 0)', r2.code === 0, r2.stderr.slice(-2000))) return;
        const meta = await buildMetadata(r2.stdout.trim());
        equal('detection chose the Procfile group: the image was built by acme/procfile alone', meta.buildpacks?.map((b: any) => b.id), ['acme/procfile']);
        equal('its image\'s web process is the Procfile\'s', meta.processes?.map((p: any) => [p.type, p.command, p.args]), [['web', ['/workspace/serve'], ['--port', '8080']]]);
      }],
      ['buildpacks: build app/ (the Go group: toolchain from the GOPROXY, static binary), push, verify and re-synth', async () => {
        const started = Date.now();
        const r = await buildCli(['--builder', 'buildpacks', '--repository', `${registry}/acme/todo`, ...goproxyArgs()], dockerEnv({ CNB_BUILDER_IMAGE: builderImage }));
        buildpacksSeconds.push((Date.now() - started) / 1000);
        if (!check('build CLI exits 0', r.code === 0, r.stderr.slice(-2500))) return;
        const meta = await buildMetadata(`${registry}/acme/todo@${lockEntry().digest}`);
        equal('detection chose the Go group (its optional Procfile buildpack found no Procfile)', meta.buildpacks?.map((b: any) => b.id), ['acme/go']);
        equal('the web process is the binary the Go buildpack built', meta.processes?.map((p: any) => [p.type, p.command]), [['web', ['/layers/acme_go/app/todo']]]);
        check('the Go buildpack provided the toolchain go.mod asks for', /\[acme\/go\] Go 1\.26\.\d+: downloading golang\.org\/toolchain/.test(r.stderr));
        progress(`  first buildpacks build: ${buildpacksSeconds[0].toFixed(1)} s`);
      }],
      ...pinnedAndRunSteps('buildpacks', '/cnb/process/web', true),
      ['buildpacks: the image keeps the SBOMs (app modules, launcher); a rebuild reuses the cached layers', async () => {
        const reference = `${registry}/acme/todo@${lockEntry().digest}`;
        const config = JSON.parse((await run('crane', ['config', reference], { env: toolEnv })).stdout);
        const sbomLayer = JSON.parse(config.config.Labels['io.buildpacks.lifecycle.metadata']).sbom?.sha;
        check('io.buildpacks.lifecycle.metadata names an SBOM layer', typeof sbomLayer === 'string', JSON.stringify(config.config.Labels).slice(0, 400));
        const tarball = path.join(tmp, 'buildpacks-image.tar');
        await run('crane', ['export', reference, tarball], { env: toolEnv });
        const members = (await run('tar', ['-tf', tarball])).stdout.split('\n');
        const appSbom = members.find(m => /layers\/sbom\/launch\/acme_go\/app\/sbom\.cdx\.json$/.test(m));
        check('the app\'s CycloneDX SBOM is in the image', !!appSbom, members.filter(m => m.includes('sbom')).join(', '));
        if (appSbom) {
          const sbom = JSON.parse((await run('tar', ['-xOf', tarball, appSbom])).stdout);
          check('it lists github.com/jackc/pgx/v5', sbom.components.some((c: any) => c.name === 'github.com/jackc/pgx/v5'));
        }
        // The lifecycle's own SBOM describes the build (layers/sbom/build), the launcher's is part of the image.
        check('the launcher\'s SBOM (made by build-builder.sh, added by the lifecycle) is in the image',
          members.some(m => m.endsWith('sbom/launch/buildpacksio_lifecycle/launcher/sbom.cdx.json')), members.filter(m => m.includes('sbom')).join(', '));
        fs.rmSync(tarball);
        const started = Date.now();
        const r = await buildCli(['--builder', 'buildpacks', '--repository', `${registry}/acme/todo`, '--tag', 'rebuild', ...goproxyArgs()], dockerEnv({ CNB_BUILDER_IMAGE: builderImage }));
        buildpacksSeconds.push((Date.now() - started) / 1000);
        if (!check('rebuild exits 0', r.code === 0, r.stderr.slice(-2500))) return;
        check('the toolchain layer came from the cache', r.stderr.includes('Restoring data for "acme/go:go" from cache') && r.stderr.includes('reusing the cached toolchain layer'));
        equal('same source, same digest', lockEntry().digest, reference.split('@')[1]);
        progress(`  buildpacks build: first ${buildpacksSeconds[0].toFixed(1)} s, rebuild ${buildpacksSeconds[1].toFixed(1)} s`);
      }],
    ];
    const stopStep: [string, () => Promise<void>] = ['docker: stop dockerd; its namespace and state are gone, the host network is as before', async () => {
      await docker!.stop();
      check(`netns ${docker!.netns} removed`, !(await run('ip', ['netns', 'list'])).stdout.includes(docker!.netns));
      check('dockerd state directory removed', !fs.existsSync(path.join(tmp, 'docker')));
      equal('after: no docker bridge, route or iptables rule on the host', await hostDockerTraces(), []);
      equal('after: /run/containerd, /run/docker, /var/lib/docker and the like as before the daemon', hostDockerFiles(), hostFilesBefore);
    }];
    const titles = [...dockerSteps, ...buildpacksSteps, stopStep].map(([title]) => title);
    const buildpacksTitles = buildpacksSteps.map(([title]) => title);
    if (SKIP_DOCKER) {
      skipSteps(titles, 'E2E_SKIP_DOCKER=1');
    } else if (!isExecutable(DOCKER_CLI)) {
      skipSteps(titles, `${DOCKER_CLI} not found (apt-get install docker.io)`);
    } else {
      // buildpacks runs on the same daemon; the daemon is stopped (and checked gone) whatever happened.
      if (!await section(dockerSteps)) skipSteps(buildpacksTitles, 'the docker steps failed');
      else if (SKIP_BUILDPACKS) skipSteps(buildpacksTitles, 'E2E_SKIP_BUILDPACKS=1');
      else await section(buildpacksSteps);
      await section([stopStep], true);
    }
  }

  await section([
    ['the real images.lock.json and dist/ are untouched', async () => {
      for (const f of Object.keys(realHashes)) equal(`${f} unchanged`, hashTree(path.join(ROOT, f)), realHashes[f]);
    }],
  ], true);
}

e2eMain({ steps: STEPS, tmp }, main);
