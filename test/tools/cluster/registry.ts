/**
 * The cluster's OCI registry (crane registry serve, storage <dir>/registry) on
 * <apiIp>:5000 in the control plane's namespace: pushed to from the host, pulled
 * from by every node's containerd over plain HTTP. Also packs a static binary
 * into a one-layer image (the sandbox "pause" image and CoreDNS).
 */
import * as fs from 'fs';
import * as path from 'path';
import { controlPlanePlace } from './control-plane';
import { startDaemon, waitForDaemon } from './daemons';
import { ClusterLayout, REGISTRY_PORT } from './layout';
import { sh, succeeds } from './sys';

export function registryAddress(c: ClusterLayout): string {
  return `${c.apiIp}:${REGISTRY_PORT}`;
}

export async function startRegistry(c: ClusterLayout, timeoutS: number): Promise<void> {
  startDaemon(c.dir, 'registry', controlPlanePlace(c), ['crane', 'registry', 'serve', '--address', `0.0.0.0:${REGISTRY_PORT}`, '--disk', path.join(c.dir, 'registry')]);
  await waitForDaemon(c.dir, 'registry', 'registry /v2/', timeoutS, () => succeeds('curl', ['-fsS', `http://${registryAddress(c)}/v2/`]));
}

/** Pushes a one-layer image with `binary` at /<entry> (its entrypoint, user 65532) as `ref`. */
export async function pushBinaryImage(c: ClusterLayout, binary: string, entry: string, ref: string): Promise<void> {
  const root = fs.mkdtempSync(path.join(c.dir, 'tmp', 'image.'));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nnonroot:x:65532:\n');
  fs.copyFileSync(binary, path.join(root, entry));
  fs.chmodSync(path.join(root, entry), 0o755);
  await sh('tar', ['--owner=0', '--group=0', '--numeric-owner', '--sort=name', '--mtime=@0', '-C', root, '-cf', `${root}.tar`, '.']);
  await sh('crane', ['append', '--insecure', '-f', `${root}.tar`, '-t', `${ref}.layer`]);
  // crane append leaves os/architecture empty; containerd picks images by platform.
  await sh('crane', ['mutate', '--insecure', `${ref}.layer`, '--set-platform', 'linux/amd64', '--entrypoint', `/${entry}`, '--user', '65532', '-t', ref]);
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(`${root}.tar`, { force: true });
}
