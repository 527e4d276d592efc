/**
 * The cluster's cgroups: /kc-<id> in every mounted hierarchy (cgroup v1
 * controllers, name=systemd, the unified one), with the control plane's
 * daemons in /kc-<id>/control-plane and each node's in /kc-<id>/<node>/daemons,
 * its pods (the kubelet's cgroupRoot) in /kc-<id>/<node>/pods. Teardown
 * freezes and kills whatever is left in a subtree, then removes it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { sleep } from './sys';

/** The mount points of every cgroup hierarchy. */
export function cgroupRoots(): string[] {
  const roots = fs.readFileSync('/proc/self/mounts', 'utf-8').split('\n')
    .map(l => l.split(' '))
    .filter(f => f[2] === 'cgroup' || f[2] === 'cgroup2')
    .map(f => f[1]);
  return [...new Set(roots)].sort();
}

/** Creates `relative` (e.g. kc-1234abcd/control-plane) in every hierarchy; a new cpuset cgroup gets its parent's CPUs and memory nodes. */
export function makeCgroup(relative: string): void {
  for (const root of cgroupRoots()) {
    let current = root;
    for (const part of relative.split('/')) {
      const parent = current;
      current = path.join(current, part);
      if (fs.existsSync(current)) continue;
      fs.mkdirSync(current);
      if (fs.existsSync(path.join(current, 'cpuset.cpus'))) {
        fs.writeFileSync(path.join(current, 'cpuset.cpus'), fs.readFileSync(path.join(parent, 'cpuset.cpus')));
        fs.writeFileSync(path.join(current, 'cpuset.mems'), fs.readFileSync(path.join(parent, 'cpuset.mems')));
      }
    }
  }
}

/**
 * CPU-seconds used by every process that ran in the subtree `relative`: cgroup v1's
 * cpuacct.usage (nanoseconds) or cgroup v2's cpu.stat usage_usec, whichever hierarchy has it.
 */
export function cpuSeconds(relative: string): number | undefined {
  for (const root of cgroupRoots()) {
    const dir = path.join(root, relative);
    if (fs.existsSync(path.join(dir, 'cpuacct.usage'))) return Number(fs.readFileSync(path.join(dir, 'cpuacct.usage'), 'utf-8')) / 1e9;
    const usec = fs.existsSync(path.join(dir, 'cpu.stat')) ? /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(dir, 'cpu.stat'), 'utf-8'))?.[1] : undefined;
    if (usec !== undefined) return Number(usec) / 1e6;
  }
  return undefined;
}

/** The cgroup.procs files of `relative` in every hierarchy (a process joins by writing its pid to each). */
export function procsFiles(relative: string): string[] {
  return cgroupRoots().map(root => path.join(root, relative, 'cgroup.procs'));
}

/** Every pid in the subtree `relative`, in any hierarchy. */
export function cgroupPids(relative: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    try {
      for (const p of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf-8').split('\n')) if (p) pids.add(Number(p));
    } catch {
      // removed meanwhile
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  for (const root of cgroupRoots()) walk(path.join(root, relative));
  return [...pids].sort((a, b) => a - b);
}

function setFreezer(relative: string, state: 'FROZEN' | 'THAWED'): void {
  const freezer = cgroupRoots().find(r => path.basename(r) === 'freezer');
  if (!freezer) return;
  try {
    fs.writeFileSync(path.join(freezer, relative, 'freezer.state'), state);
  } catch {
    // not there (yet / any more)
  }
}

/**
 * SIGKILLs every process in the subtree `relative`, frozen meanwhile so that
 * nothing forks between listing and killing; returns the pids still there.
 */
export async function killCgroup(relative: string): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const pids = cgroupPids(relative);
    if (!pids.length) return [];
    setFreezer(relative, 'FROZEN');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    setFreezer(relative, 'THAWED');
    await sleep(200);
  }
  return cgroupPids(relative);
}

/** Removes the subtree `relative` depth-first in every hierarchy; returns the directories it could not remove. */
export async function removeCgroup(relative: string): Promise<string[]> {
  const left: string[] = [];
  const removeTree = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(path.join(dir, e.name));
    fs.rmdirSync(dir);
  };
  for (const root of cgroupRoots()) {
    const dir = path.join(root, relative);
    for (let i = 0; i < 50 && fs.existsSync(dir); i++) {
      try {
        removeTree(dir);
      } catch {
        await sleep(100);
      }
    }
    if (fs.existsSync(dir)) left.push(dir);
  }
  return left;
}
