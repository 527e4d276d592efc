/**
 * A Docker daemon for the image-build e2e that leaves no trace on the host:
 * Debian's dockerd runs in a network namespace of its own (its docker0 bridge,
 * routes and containers live there, --iptables=false) and a private mount
 * namespace (its overlay mounts vanish with it), with all its state under the
 * test's temporary directory (and a tmpfs on /run). `nsenter --net`, not `ip netns exec`: the latter
 * remounts /sys, hides the cgroup mounts, and dockerd fails with "Devices
 * cgroup isn't mounted". TCP ports of the host (the test's registry, a
 * GOPROXY) are made reachable inside at the same 127.0.0.1 address through a
 * unix socket, which crosses network namespaces: so one image reference names
 * the same registry for the build CLI on the host and for the daemon.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { check, onCleanup, progress, run, stopProcess, waitFor } from './harness';

/** Debian's docker client and daemon (apt-get install docker.io; install.sh docker). */
export const DOCKER_CLI = '/usr/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';

/** A running daemon and how to reach it. */
export interface DockerDaemon {
  /** `unix://<state>/docker.sock`, for DOCKER_HOST. */
  readonly host: string;
  /** Name of its network namespace (/run/netns/<name>). */
  readonly netns: string;
  /** Makes 127.0.0.1:`port` of the host reachable at 127.0.0.1:`port` inside the namespace. */
  forward(port: number): Promise<void>;
  /** Stops the daemon and removes the namespace, the forwards and the state; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * What a Docker daemon leaves in a network namespace it runs in: its bridges
 * (docker0, br-<id>), routes through them or its default 172.17.0.0/16, and
 * its iptables chains and rules. On the host this must stay empty. (Only these:
 * other suites add and remove their own links at the same time.)
 */
export async function hostDockerTraces(): Promise<string[]> {
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').map(l => l.split(':')[1]?.trim().split('@')[0])
    .filter(l => l && /^(docker\d+|br-[0-9a-f]{12})$/.test(l)).map(l => `link ${l}`);
  const routes = (await run('ip', ['route', 'show', 'table', 'all'])).stdout.split('\n')
    .filter(l => /docker\d|br-[0-9a-f]{12}|^172\.17\./.test(l)).map(l => `route ${l}`);
  const iptables = (await run('iptables-save', [], { allowFail: true })).stdout.split('\n')
    .filter(l => /DOCKER|docker\d/.test(l)).map(l => `iptables ${l}`);
  return [...links, ...routes, ...iptables];
}

/** Paths on the host a Docker daemon or its containerd create, with what is in them. */
const HOST_DOCKER_PATHS = ['/run/containerd', '/run/docker', '/run/docker.sock', '/run/runc', '/var/lib/docker', '/var/lib/containerd'];

/** What exists of HOST_DOCKER_PATHS, one line per path and entry: compare before and after a daemon. */
export function hostDockerFiles(): string[] {
  return HOST_DOCKER_PATHS.flatMap(p => {
    if (!fs.existsSync(p)) return [];
    return [p, ...(fs.statSync(p).isDirectory() ? fs.readdirSync(p).sort().map(e => `${p}/${e}`) : [])];
  });
}

/** The forwarder run inside the namespace: 127.0.0.1:PORT -> the unix socket (argv). */
const NETNS_FORWARDER = `
const net = require('net');
const [socket, port] = process.argv.slice(1);
net.createServer(c => { const u = net.connect(socket); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));`;

/**
 * Starts dockerd in a fresh network + mount namespace with its state under
 * `<tmp>/docker`; a cleanup stops it and removes everything, also on failure.
 */
export async function startDockerDaemon(tmp: string): Promise<DockerDaemon> {
  const netns = `e2e-docker-${process.pid}`;
  const state = path.join(tmp, 'docker');
  fs.mkdirSync(state);
  const host = `unix://${path.join(state, 'docker.sock')}`;
  const children: ChildProcess[] = [];
  const servers: net.Server[] = [];
  let stopped = false;

  // Done only once every part is gone: a stop a signal cut short (the harness starts no command
  // after one, except in cleanups) is finished by the cleanup.
  const stop = async () => {
    if (stopped) return;
    for (const s of servers) s.close();
    // Forwarders first, dockerd last: it stops its containerd and the containers it runs.
    for (const c of children) await stopProcess(c, 20_000);
    await run('ip', ['netns', 'del', netns], { allowFail: true });
    fs.rmSync(state, { recursive: true, force: true });
    stopped = true;
  };
  onCleanup(`stop dockerd and remove netns ${netns}`, stop);

  await run('ip', ['netns', 'add', netns]);
  await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const log = fs.openSync(path.join(tmp, 'dockerd.log'), 'a');
  // nsenter and unshare exec dockerd, so the child is dockerd itself.
  // A tmpfs on /run in its mount namespace: containerd's shims put their sockets in /run/containerd/s
  // whatever the daemon's --exec-root, and that directory would outlive the daemon on the host.
  const dockerd = spawn('nsenter', [`--net=/run/netns/${netns}`, 'unshare', '--mount', '--propagation', 'private',
    'sh', '-c', 'mount -t tmpfs -o mode=0755 tmpfs /run && exec "$@"', 'sh', DOCKERD,
    '--data-root', path.join(state, 'root'), '--exec-root', path.join(state, 'exec'), '-H', host,
    '--pidfile', path.join(state, 'docker.pid'),
    // A bridge inside its own namespace (RUN steps get a network there); nothing on the host's.
    '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false'],
  { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  children.push(dockerd);
  await waitFor('dockerd to answer', 60_000, async () => {
    if (dockerd.exitCode !== null) throw new Error(`dockerd exited ${dockerd.exitCode}: ${fs.readFileSync(path.join(tmp, 'dockerd.log'), 'utf-8').slice(-1500)}`);
    return (await run(DOCKER_CLI, ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: host }, allowFail: true })).code === 0;
  }, 500);
  const version = (await run(DOCKER_CLI, ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: host } })).stdout.trim();
  check(`dockerd ${version} answers on ${host} in netns ${netns}`, version.length > 0);

  const forward = async (port: number) => {
    const socket = path.join(state, `forward-${port}.sock`);
    const server = net.createServer(c => {
      const t = net.connect(port, '127.0.0.1');
      c.pipe(t).pipe(c);
      c.on('error', () => t.destroy());
      t.on('error', () => c.destroy());
    });
    await new Promise<void>(resolve => server.listen(socket, resolve));
    servers.push(server);
    const inside = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', NETNS_FORWARDER, socket, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.unshift(inside);
    await new Promise<void>((resolve, reject) => {
      inside.stdout!.once('data', () => resolve());
      inside.once('exit', code => reject(new Error(`forwarder for port ${port} exited ${code}`)));
    });
    progress(`  127.0.0.1:${port} of the host is reachable in netns ${netns}`);
  };
  return { host, netns, forward, stop };
}
