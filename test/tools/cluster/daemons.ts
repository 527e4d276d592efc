/**
 * The cluster's long-running processes. Each one is started detached, in a
 * cgroup of the cluster (it joins before it execs, so everything it forks is
 * in there too), inside a network namespace and, for a node's daemons, that
 * node's private mount namespace. Output goes to <dir>/logs/<name>.log, the
 * pid to <dir>/run/<name>.pid.
 */
import * as fs from 'fs';
import * as path from 'path';
import { procsFiles } from './cgroups';
import { running, spawnDetached, tail, waitUntil } from './sys';

export interface DaemonPlace {
  /** The network namespace (a name under /run/netns). */
  netns: string;
  /** A process whose mount namespace the daemon joins (a node's holder); none: the host's. */
  mountHolder?: number;
  /** The cgroup, relative to every hierarchy's root. */
  cgroup: string;
}

export function pidFile(dir: string, name: string): string {
  return path.join(dir, 'run', `${name}.pid`);
}

export function logFile(dir: string, name: string): string {
  return path.join(dir, 'logs', `${name}.log`);
}

export function daemonPid(dir: string, name: string): number | undefined {
  try {
    return Number(fs.readFileSync(pidFile(dir, name), 'utf-8')) || undefined;
  } catch {
    return undefined;
  }
}

/** nsenter's arguments for a place: the network namespace and, when given, the holder's mount namespace. */
export function nsenterArgs(place: DaemonPlace): string[] {
  return [`--net=/run/netns/${place.netns}`, ...(place.mountHolder ? [`--mount=/proc/${place.mountHolder}/ns/mnt`] : []), '--'];
}

/** Starts `argv` as daemon `name` in `place`; returns its pid. */
export function startDaemon(dir: string, name: string, place: DaemonPlace, argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  // bash writes its own pid into the cgroups, then execs nsenter, which execs the daemon: same pid throughout.
  const join = 'for f in $CLUSTER_CG_PROCS; do echo $$ >"$f"; done; exec nsenter "$@"';
  const pid = spawnDetached('bash', ['-c', join, name, ...nsenterArgs(place), ...argv], logFile(dir, name),
    { ...env, CLUSTER_CG_PROCS: procsFiles(place.cgroup).join(' ') });
  fs.writeFileSync(pidFile(dir, name), `${pid}\n`);
  return pid;
}

/** Polls `probe` until it succeeds while daemon `name` runs; on failure the error carries its log's last lines. */
export async function waitForDaemon(dir: string, name: string, what: string, timeoutS: number, probe: () => Promise<boolean>): Promise<void> {
  const pid = daemonPid(dir, name);
  try {
    await waitUntil(what, timeoutS, probe, () => (running(pid) ? undefined : `${name} exited`), 300);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last lines of ${logFile(dir, name)}:\n${tail(logFile(dir, name))}`);
  }
}
