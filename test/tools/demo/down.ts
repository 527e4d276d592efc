/**
 * `demo down`: stops every process the state directory records (the live
 * view and the port-forward with their process groups, Argo CD, redis, git
 * daemon), then `cluster down` on the cluster's directory (its namespaces,
 * cgroups, mounts, iptables rules inside them, the host's veth), then removes
 * the directory. Safe after a failed or interrupted `up`, and when run twice.
 */
import * as fs from 'fs';
import { DemoProcess, DemoState, stillRunning } from './state';
import { progressLine, sleep } from '../cluster/sys';
import { down as clusterDown } from '../cluster/teardown';

const log = (line: string) => progressLine('demo down', line);

function signal(p: DemoProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(p.group ? -p.pid : p.pid, sig);
  } catch {
    // gone
  }
}

/** SIGTERM, up to 10 s, then SIGKILL; a pid now used by another process is left alone. */
async function stop(p: DemoProcess): Promise<void> {
  if (!stillRunning(p)) return;
  signal(p, 'SIGTERM');
  for (let i = 0; i < 100 && stillRunning(p); i++) await sleep(100);
  if (stillRunning(p)) {
    log(`${p.name} (pid ${p.pid}) still running after 10 s: SIGKILL`);
    signal(p, 'SIGKILL');
  } else if (p.group) {
    // What the group leader left behind (a kubectl of the view, say).
    signal(p, 'SIGKILL');
  }
  for (let i = 0; i < 50 && stillRunning(p); i++) await sleep(100);
  if (stillRunning(p)) throw new Error(`${p.name} (pid ${p.pid}) does not stop`);
  log(`stopped ${p.name} (pid ${p.pid})`);
}

export async function demoDown(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) {
    log(`nothing to take down: ${dir} does not exist`);
    return;
  }
  const started = Date.now();
  const state = DemoState.read(dir);
  // Last started first: the view and the port-forward before Argo CD, Argo CD before the git server.
  for (const p of [...state.processes].reverse()) await stop(p);
  const cluster = state.path('cluster');
  if (fs.existsSync(cluster)) await clusterDown(cluster);
  fs.rmSync(dir, { recursive: true, force: true });
  log(`removed ${dir} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
}
