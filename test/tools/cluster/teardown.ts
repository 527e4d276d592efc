/**
 * `down`: stops everything of a cluster and removes every trace, also of a
 * half-started one and when run twice. Daemons get SIGTERM (nodes first, then
 * the control plane), then the cluster's cgroup tree is frozen and every
 * process left in it (shims, containers, holders) SIGKILLed; the cgroups are
 * removed depth-first, the network namespaces deleted (their veths, bridges,
 * iptables rules and routes go with them), the host end of the veth pair
 * removed, the host sysctls the kubelet and `up` changed restored when no node of any cluster is
 * left, and the directory removed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cgroupPids, cpuSeconds, killCgroup, removeCgroup } from './cgroups';
import { CONTROL_PLANE_DAEMONS } from './control-plane';
import { daemonPid } from './daemons';
import { MARKER, namesOnly } from './layout';
import { NODE_DAEMONS } from './node-runtime';
import { progressLine, running, sh, sleep } from './sys';

/** The global sysctls the kubelet sets at start (pkg/kubelet/cm setupKernelTunables). */
export const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'];
/** The host's values before the first cluster came up: outside any cluster's directory, as several may be up at once. */
export const SYSCTL_SAVE = '/run/todo-gitops-cluster.sysctls';
/** A node's network namespace: only clusters with nodes run kubelets, which change the sysctls. */
export const NODE_NETNS = /^kc-[0-9a-f]{8}-\d+$/;

const log = (line: string) => progressLine('cluster', line);

/**
 * inotify instances per user, raised by `up` to at least this: each node's containerd and kubelet
 * hold several, and with a few clusters up at once the default 128 runs out (containerd's CRI
 * plugin then fails: "failed to create fsnotify watcher: too many open files").
 */
export const INOTIFY_INSTANCES = { sysctl: 'fs.inotify.max_user_instances', atLeast: 1024 };
/** The host sysctls a cluster with nodes changes: the kubelet's, and the inotify limit `up` raises. */
const CHANGED_SYSCTLS = [...KUBELET_SYSCTLS, INOTIFY_INSTANCES.sysctl];

/**
 * Saves the host's values of the sysctls a cluster changes, unless a running cluster already
 * did; adds those it did not save (a cluster of an earlier version of this program).
 */
export async function saveSysctls(): Promise<void> {
  const saved = fs.existsSync(SYSCTL_SAVE) ? fs.readFileSync(SYSCTL_SAVE, 'utf-8').split('\n').filter(l => l.includes('=')) : [];
  const missing = CHANGED_SYSCTLS.filter(s => !saved.some(l => l.startsWith(`${s}=`)));
  if (!missing.length) return;
  const lines = [...saved];
  for (const s of missing) lines.push(`${s}=${(await sh('sysctl', ['-n', s], { allowFail: true })).stdout.trim()}`);
  fs.writeFileSync(`${SYSCTL_SAVE}.${process.pid}`, `${lines.join('\n')}\n`);
  fs.renameSync(`${SYSCTL_SAVE}.${process.pid}`, SYSCTL_SAVE);
}

/** Raises the host's inotify instances to {@link INOTIFY_INSTANCES} (after {@link saveSysctls}: `down` restores it). */
export async function raiseInotifyInstances(): Promise<void> {
  const now = Number((await sh('sysctl', ['-n', INOTIFY_INSTANCES.sysctl], { allowFail: true })).stdout.trim());
  if (now < INOTIFY_INSTANCES.atLeast) await sh('sysctl', ['-qw', `${INOTIFY_INSTANCES.sysctl}=${INOTIFY_INSTANCES.atLeast}`]);
}

function clusterNetnses(id: string): string[] {
  const all = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
  return all.filter(n => n === `kc-${id}` || n.startsWith(`kc-${id}-`)).sort().reverse();
}

/** Daemon names of the directory: its pid files, node daemons first. */
function daemonNames(dir: string): string[] {
  const files = fs.existsSync(path.join(dir, 'run')) ? fs.readdirSync(path.join(dir, 'run')).filter(f => f.endsWith('.pid')) : [];
  const names = files.map(f => f.slice(0, -4));
  const rank = (n: string) => {
    const daemon = n.includes('.') ? n.slice(n.lastIndexOf('.') + 1) : n;
    const i = NODE_DAEMONS.indexOf(daemon);
    return i >= 0 ? i : NODE_DAEMONS.length + Math.max(0, CONTROL_PLANE_DAEMONS.indexOf(daemon));
  };
  return names.sort((a, b) => rank(a) - rank(b));
}

/** Processes whose network namespace is `netns` (there should be none outside the cgroups). */
function processesIn(netns: string): number[] {
  let ino: number;
  try {
    ino = fs.statSync(`/run/netns/${netns}`).ino;
  } catch {
    return [];
  }
  return fs.readdirSync('/proc').filter(p => /^\d+$/.test(p)).map(Number).filter(pid => {
    try {
      return fs.statSync(`/proc/${pid}/ns/net`).ino === ino;
    } catch {
      return false;
    }
  });
}

export async function down(dirArg: string): Promise<void> {
  const dir = path.resolve(dirArg);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length && !fs.existsSync(path.join(dir, MARKER))) {
    throw new Error(`${dir} was not made by cluster up (no ${MARKER}); refusing to touch it`);
  }
  const c = namesOnly(dir);
  const problems: string[] = [];
  // 1. Ask the daemons to stop, then wait up to 3 s: nothing is kept, a clean stop only makes tidy logs.
  const pids = daemonNames(dir).map(n => daemonPid(dir, n)).filter((p): p is number => running(p));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 30 && pids.some(running); i++) await sleep(100);
  // 2. Everything left in the cgroup tree, frozen and killed; first what the tree used, for the log.
  const used = cpuSeconds(c.cgroup);
  const left = await killCgroup(c.cgroup);
  if (left.length) problems.push(`processes still in /${c.cgroup}: ${left.join(' ')}`);
  const netnses = clusterNetnses(c.id);
  for (const ns of netnses) {
    for (const pid of processesIn(ns)) {
      log(`killing pid ${pid} (in ${ns}, outside /${c.cgroup})`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  // 3. cgroups, depth-first.
  if (!cgroupPids(c.cgroup).length) for (const d of await removeCgroup(c.cgroup)) problems.push(`could not remove cgroup ${d}`);
  // 4. Network namespaces (nodes first) and the host end of the veth pair.
  for (const ns of netnses) {
    if ((await sh('ip', ['netns', 'del', ns], { allowFail: true })).code !== 0) problems.push(`could not delete network namespace ${ns}`);
  }
  if ((await sh('ip', ['link', 'show', c.hostVeth], { allowFail: true })).code === 0) {
    if ((await sh('ip', ['link', 'del', c.hostVeth], { allowFail: true })).code !== 0) problems.push(`could not delete ${c.hostVeth}`);
  }
  // 5. Host sysctls, unless another cluster's nodes still run.
  const others = (fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []).filter(n => NODE_NETNS.test(n));
  if (fs.existsSync(SYSCTL_SAVE) && !others.length) {
    for (const kv of fs.readFileSync(SYSCTL_SAVE, 'utf-8').split('\n')) {
      if (kv.includes('=') && kv.split('=')[1] !== '') await sh('sysctl', ['-qw', kv], { allowFail: true });
    }
    fs.rmSync(SYSCTL_SAVE);
  }
  // 6. Mounts are all in the nodes' private mount namespaces, gone with their processes. Anything
  //    under the directory visible here would be a bug: unmount it rather than rm -rf through it.
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf-8').split('\n').map(l => l.split(' ')[1])
    .filter(m => m && `${m}/`.startsWith(`${dir}/`)).sort().reverse();
  for (const m of mounts) {
    log(`unmounting leftover ${m}`);
    if ((await sh('umount', ['-l', m], { allowFail: true })).code !== 0) problems.push(`could not unmount ${m}`);
  }
  if (problems.length) throw new Error(`down incomplete, keeping ${dir}:\n  ${problems.join('\n  ')}`);
  fs.rmSync(dir, { recursive: true, force: true });
  log(`down: stopped and removed ${dir}${used === undefined ? '' : ` (its control plane, nodes and pods used ${used.toFixed(0)} CPU-seconds)`}`);
}
