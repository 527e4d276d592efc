/**
 * The local OCI registry and base image the end-to-end suites build and push
 * images with (test/e2e/image-build.ts, test/e2e/argocd.ts): `crane registry
 * serve` on 127.0.0.1 (stopped by a cleanup), and a non-root base image made
 * from scratch, so nothing is pulled from a public registry.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { check, equal, freePort, onCleanup, run, stopProcess, waitFor } from './harness';

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
  const root = path.join(tmp, 'base-root');
  fs.mkdirSync(path.join(root, 'etc', 'ssl', 'certs'), { recursive: true });
  fs.mkdirSync(path.join(root, 'home', 'nonroot'), { recursive: true });
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\n');
  fs.copyFileSync('/etc/ssl/certs/ca-certificates.crt', path.join(root, 'etc', 'ssl', 'certs', 'ca-certificates.crt'));
  const layer = path.join(tmp, 'base.tar');
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
