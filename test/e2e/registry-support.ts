/**
 * The local OCI registry and base images the end-to-end suites build and push
 * images with (test/e2e/image-build.ts, test/e2e/argocd.ts, test/e2e/pods.ts):
 * `crane registry serve` on 127.0.0.1 (stopped by a cleanup), a non-root base
 * image made from scratch and a Go builder image, so nothing is pulled from a
 * public registry.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { toolsCache } from './cluster-support';
import { ROOT, check, equal, freePort, onCleanup, progress, run, stopProcess, waitFor } from './harness';

/**
 * The kaniko executor's source (chainguard-dev/kaniko v1.25.5, too large to vendor): the one
 * file of the shared material beside the clone that tests may read; KANIKO_SOURCE_TARBALL
 * points elsewhere.
 */
export const KANIKO_SOURCE_TARBALL = process.env.KANIKO_SOURCE_TARBALL ?? path.resolve(ROOT, '../shared/kaniko/kaniko-v1.25.5.tar.gz');

/** Starts `crane registry serve` on a free 127.0.0.1 port, storing under `tmp`; returns "127.0.0.1:<port>". */
export async function startRegistry(tmp: string, toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const port = await freePort();
  const registry = `127.0.0.1:${port}`;
  const disk = path.join(tmp, 'registry');
  fs.mkdirSync(disk);
  const child = spawn('crane', ['registry', 'serve', '--address', registry, '--disk', disk], { env: toolEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', d => { log = (log + d).slice(-4000); });
  onCleanup('stop the registry', async () => { await stopProcess(child, 3000); });
  await waitFor(`registry on ${registry}`, 20_000, async () => {
    if (child.exitCode !== null) throw new Error(`crane registry serve exited ${child.exitCode}: ${log}`);
    return (await fetch(`http://${registry}/v2/`)).status === 200;
  });
  check(`registry answers on http://${registry}/v2/`, true);
  return registry;
}

/** crane's flag for plain HTTP, which it assumes by itself only for a registry on loopback. */
export function craneInsecure(registry: string): string[] {
  return /^(127\.|localhost[:/])/.test(registry) ? [] : ['--insecure'];
}

/**
 * Makes a base image from scratch (passwd/group with nonroot 65532, CA roots,
 * /tmp), pushes it to `registry` as e2e/static and returns it by digest.
 */
export async function makeBaseImage(tmp: string, registry: string, toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const insecure = craneInsecure(registry);
  // One directory per call: a suite that starts a second cluster makes the base image again.
  const root = fs.mkdtempSync(path.join(tmp, 'base-root-'));
  // The layer's "." entry carries this mode to the image's /: mkdtemp's 0700 would shut the user out.
  fs.chmodSync(root, 0o755);
  fs.mkdirSync(path.join(root, 'etc', 'ssl', 'certs'), { recursive: true });
  fs.mkdirSync(path.join(root, 'home', 'nonroot'), { recursive: true });
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\n');
  fs.copyFileSync('/etc/ssl/certs/ca-certificates.crt', path.join(root, 'etc', 'ssl', 'certs', 'ca-certificates.crt'));
  const layer = `${root}.tar`;
  await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '--sort=name', '--mtime=@0', '-C', root, '-cf', layer, '.']);
  await run('crane', ['append', ...insecure, '-f', layer, '-t', `${registry}/e2e/static:layer`], { env: toolEnv });
  // crane append leaves os/architecture empty; ko refuses a base without the platform it builds for.
  await run('crane', ['mutate', ...insecure, `${registry}/e2e/static:layer`, '--set-platform', 'linux/amd64', '--user', '65532', '-t', `${registry}/e2e/static:latest`], { env: toolEnv });
  const digest = (await run('crane', ['digest', ...insecure, `${registry}/e2e/static:latest`], { env: toolEnv })).stdout.trim();
  const baseImage = `${registry}/e2e/static@${digest}`;
  const config = JSON.parse((await run('crane', ['config', ...insecure, baseImage], { env: toolEnv })).stdout);
  equal('base image platform is linux/amd64', `${config.os}/${config.architecture}`, 'linux/amd64');
  return baseImage;
}

/**
 * A Go build cache with the standard library and the dependencies of `moduleDir` compiled as
 * app/Dockerfile's `go build` compiles them (CGO_ENABLED=0, -trimpath, linux/amd64), kept in the
 * tools cache per Go version and go.sum: compiled once (about 50 CPU-seconds), then only checked.
 * The Go image carries it, so each build compiles just the module's own packages: about 11
 * CPU-seconds instead of 44, four builds a run (buildah, kaniko, Docker, the kaniko Job).
 */
async function goBuildCache(moduleDir: string, toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const goVersion = (await run('go', ['env', 'GOVERSION'], { env: toolEnv })).stdout.trim();
  const sum = createHash('sha256').update(fs.readFileSync(path.join(moduleDir, 'go.sum'))).digest('hex').slice(0, 12);
  const cache = path.join(toolsCache(), 'go-builder-cache', `${goVersion}-${sum}`);
  const env = { ...toolEnv, GOCACHE: cache, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64', GOFLAGS: '-mod=mod' };
  const listed = await run('go', ['list', '-deps', '-f', '{{if or .Standard (and .Module (not .Module.Main))}}{{.ImportPath}}{{end}}', '.'], { cwd: moduleDir, env });
  await run('go', ['build', '-trimpath', ...listed.stdout.split('\n').filter(Boolean)], { cwd: moduleDir, env });
  return cache;
}

/**
 * Makes the Go image `app/Dockerfile`'s build stage runs in (its GO_IMAGE
 * argument), pushes it to `registry` as e2e/go and returns it by digest:
 * busybox-static, this machine's Go toolchain, the module cache of
 * `moduleDir` downloaded here from the Go module proxy, with GOPROXY=off, as
 * the builds it serves have no network, and a build cache of what the module
 * imports ({@link goBuildCache}).
 */
export async function makeGoBuilderImage(tmp: string, registry: string, moduleDir: string, toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const insecure = craneInsecure(registry);
  if (!fs.existsSync('/bin/busybox')) {
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'busybox-static'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const root = fs.mkdtempSync(path.join(tmp, 'go-root-'));
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc', 'ssl', 'certs'), { recursive: true });
  fs.mkdirSync(path.join(root, 'tmp'));
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(root, 'bin', 'sh'));
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.copyFileSync('/etc/ssl/certs/ca-certificates.crt', path.join(root, 'etc', 'ssl', 'certs', 'ca-certificates.crt'));
  const modcache = path.join(root, 'go', 'pkg', 'mod');
  await run('go', ['mod', 'download'], { cwd: moduleDir, env: { ...toolEnv, GOMODCACHE: modcache, GOFLAGS: '-modcacherw' } });
  const goroot = (await run('go', ['env', 'GOROOT'], { env: toolEnv })).stdout.trim();
  const buildCache = await goBuildCache(moduleDir, toolEnv);
  const layers = [`${root}.base.tar`, `${root}.toolchain.tar`, `${root}.build-cache.tar`];
  try {
    await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', layers[0], '.']);
    await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '--exclude=./test', '-C', goroot, '--transform', 's,^\\.,usr/local/go,', '-cf', layers[1], '.']);
    await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', buildCache, '--transform', 's,^\\.,tmp/go-cache,', '-cf', layers[2], '.']);
    await run('crane', ['append', ...insecure, ...layers.flatMap(l => ['-f', l]), '-t', `${registry}/e2e/go:layers`], { env: toolEnv });
  } finally {
    for (const l of layers) fs.rmSync(l, { force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
  const env = ['PATH=/usr/local/go/bin:/bin', 'GOROOT=/usr/local/go', 'GOPATH=/go', 'GOMODCACHE=/go/pkg/mod', 'GOCACHE=/tmp/go-cache',
    'GOPROXY=off', 'GOSUMDB=off', 'GOTOOLCHAIN=local', 'GOFLAGS=-mod=mod'];
  await run('crane', ['mutate', ...insecure, `${registry}/e2e/go:layers`, '--set-platform', 'linux/amd64', ...env.flatMap(e => ['--env', e]), '-t', `${registry}/e2e/go:latest`], { env: toolEnv });
  const goImage = `${registry}/e2e/go@${(await run('crane', ['digest', ...insecure, `${registry}/e2e/go:latest`], { env: toolEnv })).stdout.trim()}`;
  const config = JSON.parse((await run('crane', ['config', ...insecure, goImage], { env: toolEnv })).stdout);
  check('Go builder image has the Go environment', (config.config?.Env ?? []).includes('GOPROXY=off'), JSON.stringify(config.config?.Env));
  return goImage;
}

/**
 * Serves, on 127.0.0.1, a Go module proxy made of this machine's module
 * download cache, after downloading into it the modules of `moduleDir` and
 * the golang.org/toolchain module of this machine's Go (what the buildpacks'
 * Go buildpack fetches): builds in a network namespace without the internet
 * then reach it through a forward, or, with `address` the host's address on a
 * cluster's network, directly from its pods. Returns the port; a cleanup stops it.
 */
export async function startGoProxy(moduleDir: string, toolEnv: NodeJS.ProcessEnv, address = '127.0.0.1'): Promise<number> {
  const goVersion = (await run('go', ['env', 'GOVERSION'], { env: toolEnv })).stdout.trim();
  const env = { ...toolEnv, GOFLAGS: '-mod=mod' };
  await run('go', ['mod', 'download', '-json', `golang.org/toolchain@v0.0.1-${goVersion}.linux-amd64`], { env });
  await run('go', ['mod', 'download'], { cwd: moduleDir, env });
  const root = path.join((await run('go', ['env', 'GOMODCACHE'], { env })).stdout.trim(), 'cache', 'download');
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (req.method !== 'GET' || !file.startsWith(`${root}/`) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  const port = await freePort();
  await new Promise<void>(resolve => server.listen(port, address, resolve));
  onCleanup('stop the GOPROXY', () => new Promise<void>(resolve => server.close(() => resolve())));
  progress(`  GOPROXY http://${address}:${port} serves ${root} (${goVersion} toolchain and the modules of ${path.basename(moduleDir)}/)`);
  return port;
}

/**
 * Makes an image with git (this machine's, with the shared libraries it and
 * its HTTP transport load) and busybox's `sh`, for BuildpacksBuildJob's
 * source container; pushes it to `registry` as e2e/git and returns it by
 * digest. User 65532, as the job runs it.
 */
export async function makeGitImage(tmp: string, registry: string, toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const insecure = craneInsecure(registry);
  const root = fs.mkdtempSync(path.join(tmp, 'git-root-'));
  fs.chmodSync(root, 0o755);
  const binaries = ['/usr/bin/git', '/usr/lib/git-core/git-remote-http'];
  const libraries = new Set<string>();
  for (const binary of binaries) {
    const ldd = (await run('ldd', [binary])).stdout;
    for (const m of ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) libraries.add(m[1]);
  }
  const copy = (from: string, to = from) => {
    fs.mkdirSync(path.join(root, path.dirname(to)), { recursive: true });
    fs.copyFileSync(from, path.join(root, to));
    fs.chmodSync(path.join(root, to), 0o755);
  };
  for (const file of [...binaries, ...libraries, '/bin/busybox', '/etc/ssl/certs/ca-certificates.crt']) copy(file);
  fs.symlinkSync('git-remote-http', path.join(root, 'usr/lib/git-core/git-remote-https'));
  for (const applet of ['sh', 'mkdir', 'rm', 'cat', 'ls']) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  fs.mkdirSync(path.join(root, 'usr/share'), { recursive: true });
  await run('cp', ['-r', '/usr/share/git-core', path.join(root, 'usr/share/git-core')]);
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/tmp:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
  fs.mkdirSync(path.join(root, 'tmp'));
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  const layer = `${root}.tar`;
  try {
    await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '--sort=name', '--mtime=@0', '-C', root, '-cf', layer, '.']);
    await run('crane', ['append', ...insecure, '-f', layer, '-t', `${registry}/e2e/git:layer`], { env: toolEnv });
  } finally {
    fs.rmSync(layer, { force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
  await run('crane', ['mutate', ...insecure, `${registry}/e2e/git:layer`, '--set-platform', 'linux/amd64', '--user', '65532:65532',
    '--env', 'PATH=/usr/bin:/bin', '--env', 'GIT_EXEC_PATH=/usr/lib/git-core', '-t', `${registry}/e2e/git:latest`], { env: toolEnv });
  return `${registry}/e2e/git@${(await run('crane', ['digest', ...insecure, `${registry}/e2e/git:latest`], { env: toolEnv })).stdout.trim()}`;
}
