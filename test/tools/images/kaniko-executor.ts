/**
 * The program behind test/tools/images/kaniko-executor.sh (usage, environment and the container's
 * shape: that script's header): runs /kaniko/executor of $KANIKO_IMAGE in a runc container shaped
 * like the KanikoBuildJob's pod, never on the host. Exit status: the executor's; 125 when the
 * container could not be set up, 2 for a usage error. On exit, failure or SIGINT/SIGTERM/SIGHUP
 * the container is killed and deleted and its root filesystem copy removed.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { exitStatus, exportRootfs, imageConfig } from './runc-image';
import { KANIKO_CAPABILITIES } from '../../../src/image-build/kaniko-build-job';
import { onPath } from '../cluster/sys';

const WRAPPER = path.join(__dirname, 'kaniko-executor.sh');
const INSTALL_SH = path.resolve(__dirname, '..', 'install.sh');

/** A usage error: exit 2, with the wrapper's usage lines. */
export class UsageError extends Error {}
/** The container could not be set up: exit 125 (as `docker run`), so it is not mistaken for the executor's status. */
export class SetupError extends Error {}

const say = (line: string) => process.stderr.write(`[kaniko-executor] ${line}\n`);

/** The executor's flags that name a file it writes: their directory is mounted read-write. */
const OUTPUT_FLAGS = ['--digest-file', '--image-name-with-digest-file', '--image-name-tag-with-digest-file', '--tar-path', '--oci-layout-path'];
/** Flags whose value may be the next argument ("--flag value"). */
const VALUE_FLAGS = ['--context', '-c', '--dockerfile', '-f', '--destination', '-d', ...OUTPUT_FLAGS];

/** A host path the container needs, and how. */
export interface MountRequest { readonly mode: 'ro' | 'rw'; readonly path: string }

/** What the executor's arguments ask of the container; the arguments themselves pass through unchanged. */
export interface ExecutorArgs {
  readonly mounts: MountRequest[];
  /** The first --destination ('' when there is none). */
  readonly destination: string;
  /** Whether the args push over plain HTTP (--insecure). */
  readonly insecure: boolean;
}

/**
 * The host paths kaniko reads from its args (`--flag value`, `--flag=value`, or the short
 * -c/-f/-d): the --context directory (dir:// or a plain path) read-only; the --dockerfile
 * read-only if it is an absolute path outside the context (a relative one is found in the
 * context); the directories of the files it writes read-write. Other paths (--cache-dir,
 * --kaniko-dir, ...) stay inside the container's throw-away root.
 */
export function parseExecutorArgs(args: string[]): ExecutorArgs {
  const mounts: MountRequest[] = [];
  let context = '';
  let dockerfile = '';
  let destination = '';
  let insecure = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const flag = a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1] ?? '');
    if (flag === '--context' || a === '-c') {
      context = value();
    } else if (flag === '--dockerfile' || a === '-f') {
      dockerfile = value();
    } else if (flag === '--destination' || a === '-d') {
      destination ||= value();
    } else if (OUTPUT_FLAGS.includes(flag)) {
      const file = value();
      if (!file.startsWith('/')) throw new UsageError(`${a} must be an absolute path (the container's working directory is not the caller's), got '${file}'`);
      mounts.push({ mode: 'rw', path: path.dirname(file) });
    } else if (a === '--insecure' || a === '--insecure=true') {
      insecure = true;
    }
    if (VALUE_FLAGS.includes(a)) i++;
  }
  let contextDir = '';
  if (context.startsWith('dir://')) contextDir = context.slice('dir://'.length);
  else if (context.startsWith('tar://')) mounts.push({ mode: 'ro', path: path.dirname(context.slice('tar://'.length)) });
  // '' is kaniko's default, /workspace/, in the image; git://, s3://, https://... are fetched over the network.
  else if (context && !context.includes('://')) contextDir = context;
  if (contextDir) {
    if (!contextDir.startsWith('/')) throw new UsageError(`--context must be an absolute path, got '${context}'`);
    contextDir = contextDir.replace(/\/$/, '') || '/';
    mounts.push({ mode: 'ro', path: contextDir });
  }
  if (dockerfile.startsWith('/') && (!contextDir || !dockerfile.startsWith(`${contextDir}/`))) mounts.push({ mode: 'ro', path: dockerfile });
  return { mounts, destination, insecure };
}

/** A bind mount: where the container sees it (the path as the args spell it) and its host source. */
export interface Bind { readonly destination: string; readonly source: string; readonly mode: 'ro' | 'rw' }

/**
 * The mount requests checked against the host: existing paths, none that would cover the
 * container's own /, /kaniko, /proc, /sys, /dev or resolv.conf, and none that holds `work` (the
 * container would see its own root filesystem). Duplicates collapse; read-write wins over
 * read-only. The destination is the path as the args spell it (only "." and ".." folded), since
 * that is what kaniko opens; its source is the host path with symlinks resolved. Sorted by
 * destination, so a directory is mounted before what is mounted inside it.
 */
export function checkMounts(requests: MountRequest[], work: string, realpath: (p: string) => string = fs.realpathSync): Bind[] {
  const binds = new Map<string, Bind>();
  for (const r of requests) {
    const p = path.resolve(r.path);
    let source: string;
    try {
      source = realpath(p);
    } catch {
      throw new SetupError(`${p} (from the executor's args) does not exist on the host`);
    }
    if (p === '/' || ['/kaniko/', '/proc/', '/sys/', '/dev/'].some(d => `${p}/`.startsWith(d)) || p === '/etc/resolv.conf') {
      throw new SetupError(`refusing to mount ${p} into the container`);
    }
    if (`${work}/`.startsWith(`${source}/`) || `${work}/`.startsWith(`${p}/`)) {
      throw new SetupError(`${p} holds ${work}, this run's root filesystem; set TMPDIR elsewhere`);
    }
    const mode = binds.get(p)?.mode === 'rw' ? 'rw' : r.mode;
    binds.set(p, { destination: p, source, mode });
  }
  return [...binds.values()].sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
}

/**
 * Whether crane may pull KANIKO_IMAGE over plain HTTP / without TLS verification:
 * KANIKO_IMAGE_INSECURE 1 or 0, or by default when the image is in the --destination's registry
 * and the args have --insecure. Never for loopback, which crane speaks plain HTTP to by itself
 * (--insecure would only add an HTTPS attempt).
 */
export function pullInsecure(image: string, args: ExecutorArgs, setting: string | undefined): boolean {
  const registry = image.split('/')[0];
  let insecure: boolean;
  if (setting === '1') insecure = true;
  else if (setting === '0') insecure = false;
  else if (!setting) insecure = args.insecure && registry === args.destination.split('/')[0];
  else throw new UsageError(`KANIKO_IMAGE_INSECURE must be 0 or 1, got '${setting}'`);
  return insecure && !/^(127\.|localhost$|localhost:|\[::1\]$|\[::1\]:)/.test(registry);
}

/**
 * `runc spec` gives no seccomp profile, and Docker's default one (an allowlist) is not on this
 * machine. This denylist keeps the part of it that matters for a root process without
 * CAP_SYS_ADMIN & co.: kernel keyrings, bpf/perf, module and kexec loading, mount and namespace
 * syscalls, ptrace and cross-process memory access, clock/swap/reboot/quota/accounting. None is
 * needed to unpack images, run a Dockerfile's RUN steps (go build here) or push.
 */
const DENIED_SYSCALLS = ['acct', 'add_key', 'bpf', 'clock_adjtime', 'clock_settime', 'create_module', 'delete_module',
  'finit_module', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'get_kernel_syms', 'init_module', 'ioperm',
  'iopl', 'kcmp', 'kexec_file_load', 'kexec_load', 'keyctl', 'lookup_dcookie', 'mount', 'mount_setattr',
  'move_mount', 'name_to_handle_at', 'nfsservctl', 'open_by_handle_at', 'open_tree', 'perf_event_open',
  'pivot_root', 'process_vm_readv', 'process_vm_writev', 'ptrace', 'query_module', 'quotactl',
  'quotactl_fd', 'reboot', 'request_key', 'setns', 'settimeofday', 'stime', 'swapoff', 'swapon', 'sysfs',
  '_sysctl', 'umount', 'umount2', 'unshare', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old'];
/** The architectures the denylist covers; other ones only the native one. */
const SECCOMP_ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/** What differs from `runc spec`'s default for the executor's container. */
export interface ExecutorContainer {
  readonly rootfs: string;
  readonly args: string[];
  readonly image: { Env?: string[]; WorkingDir?: string };
  readonly binds: Bind[];
  /** /etc/resolv.conf of the host, symlinks resolved. */
  readonly resolvConf: string;
  /** RLIMIT_NOFILE: the caller's soft and hard limits. */
  readonly nofile: { soft: number; hard: number };
}

/**
 * `runc spec`'s default (its /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, read-only /sys and
 * cgroup mounts, masked and read-only /proc paths, a device cgroup denying all but the standard
 * devices) changed to the KanikoBuildJob's shape: uid/gid 0 with only KANIKO_CAPABILITIES in every
 * capability set, no_new_privs, the seccomp denylist, a writable private root filesystem, its own
 * pid, ipc, uts, mount and cgroup namespaces but the host's network (a registry on the host's
 * 127.0.0.1 is reachable; no NET_ADMIN/NET_RAW, so it can only open sockets like any process on
 * the host), the host's resolv.conf read-only and the binds.
 */
export function executorSpec(base: any, c: ExecutorContainer): any {
  const caps = KANIKO_CAPABILITIES.map(cap => `CAP_${cap}`);
  // "rbind" + "rro" makes a read-only mount recursively read-only (plain "ro" would leave
  // submounts writable); nosuid/nodev as for any volume.
  const binds = c.binds.map(b => ({ destination: b.destination, type: 'bind', source: b.source, options: ['rbind', b.mode === 'ro' ? 'rro' : 'rw', 'nosuid', 'nodev'] }));
  binds.push({ destination: '/etc/resolv.conf', type: 'bind', source: c.resolvConf, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  return {
    ...base,
    process: {
      ...base.process,
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: c.args,
      env: [...(c.image.Env ?? []), 'HOSTNAME=kaniko'],
      cwd: c.image.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: true,
      // runc spec says 1024 open files; go build and parallel layer uploads may want more. The
      // limits of the caller, as a container engine passes on its own (no higher than it may set).
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: c.nofile.hard, soft: c.nofile.soft }],
    },
    root: { path: c.rootfs, readonly: false },
    hostname: 'kaniko',
    mounts: [...base.mounts, ...binds],
    linux: {
      ...base.linux,
      namespaces: base.linux.namespaces.filter((n: { type: string }) => n.type !== 'network'),
      seccomp: {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: SECCOMP_ARCHES[process.arch] ?? [],
        syscalls: [{ names: DENIED_SYSCALLS, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      },
    },
  };
}

/** The wrapper's usage lines (its header from "Usage" to the next empty comment line). */
function usage(): string {
  const lines = fs.readFileSync(WRAPPER, 'utf-8').split('\n');
  const from = lines.findIndex(l => l.startsWith('# Usage'));
  const to = lines.findIndex((l, i) => i > from && l === '#');
  return lines.slice(from, to).map(l => l.replace(/^# ?/, '')).join('\n');
}

/** The caller's RLIMIT_NOFILE, which the wrapper passes (node raises its own soft limit at start). */
function callerNofile(): { soft: number; hard: number } {
  const [soft, hard] = (process.env.KANIKO_EXECUTOR_NOFILE ?? '').split(' ').map(v => (v === 'unlimited' ? 1048576 : Number(v)));
  if (!Number.isInteger(soft) || !Number.isInteger(hard)) throw new SetupError('run me through kaniko-executor.sh (KANIKO_EXECUTOR_NOFILE is not set)');
  return { soft, hard };
}

/** The host mounts at or below `dir`, from /proc/self/mountinfo. */
function mountedUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf-8').split('\n')
    .map(line => line.split(' ')[4])
    .filter(m => m !== undefined && (m === dir || m.startsWith(`${dir}/`)));
}

/** One run: its work directory, container and child processes, and their removal however it ends. */
class Run {
  readonly started = Date.now();
  readonly id = `kaniko-${process.pid}-${Math.floor(Math.random() * 32768)}`;
  work = '';
  runc: ChildProcess | undefined;
  ran = false;
  private readonly children = new Set<ChildProcess>();
  finishing = false;

  get state(): string { return path.join(this.work, 'runc-state'); }

  /** Keeps `child` until it exits, so an interrupt can stop it. */
  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Throws once the run is being torn down (a signal): nothing new starts then. */
  checkRunning(): void {
    if (this.finishing) throw new Error('interrupted');
  }

  /** Removes the container and the work directory, says so, and exits `rc`. */
  async finish(rc: number): Promise<never> {
    if (this.finishing) return new Promise<never>(() => undefined);
    this.finishing = true;
    if (this.work) {
      if (this.runc) {
        // Still running only when we were interrupted: its root filesystem is thrown away, so
        // there is nothing to shut down gracefully.
        spawnSync('runc', ['--root', this.state, 'kill', this.id, 'KILL'], { stdio: 'ignore' });
        await exitStatus(this.runc);
      }
      for (const child of this.children) child.kill('SIGKILL');
      await Promise.all([...this.children].map(exitStatus));
      if (fs.existsSync(path.join(this.state, this.id)) && spawnSync('runc', ['--root', this.state, 'delete', '--force', this.id], { stdio: 'ignore' }).status !== 0) {
        say(`warning: runc delete ${this.id} failed`);
      }
      // Expected to be none: every bind mount is made in the container's mount namespace and
      // dies with it. Checked anyway before `rm -rf`, so a leaked bind mount of the context can
      // never get its contents deleted.
      let left = mountedUnder(this.work);
      for (const m of [...left].sort().reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
      if (left.length) left = mountedUnder(this.work);
      if (left.length) say(`warning: still mounted under ${this.work}, left in place: ${left.join('\n')}`);
      else spawnSync('rm', ['-rf', '--one-file-system', this.work], { stdio: 'inherit' });
      say(`exit ${rc} after ${Math.floor((Date.now() - this.started) / 1000)}s; removed ${this.ran ? `container ${this.id} and ` : ''}${this.work}`);
    }
    process.exit(rc);
  }
}

async function main(argv: string[], run: Run): Promise<number> {
  if (argv.length === 0) throw new UsageError('no executor arguments');
  const image = process.env.KANIKO_IMAGE ?? '';
  if (!image) throw new UsageError('set KANIKO_IMAGE to the kaniko executor image (by digest)');
  // By digest only: the build must run exactly the executor that was built and checked, and a
  // tag could move between the pull and the next run.
  if (!/@sha256:[0-9a-f]{64}$/.test(image)) throw new UsageError(`KANIKO_IMAGE must be a reference by digest (...@sha256:<64 hex>), got '${image}'`);
  if (process.getuid?.() !== 0) {
    throw new SetupError('run as root: the executor runs as root in a runc container (rootless runc would need a user namespace, which the Job does not have either)');
  }
  for (const t of ['runc', 'tar']) if (!onPath(t)) throw new SetupError(`${t} not found (apt-get install ${t})`);
  if (!onPath('crane')) {
    const r = spawnSync('bash', [INSTALL_SH, 'crane'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf-8' });
    const m = /^export PATH="(.*)\$PATH"$/m.exec(r.stdout ?? '');
    if (r.status !== 0 || !m) throw new SetupError('crane not found and test/tools/install.sh crane failed');
    process.env.PATH = `${m[1]}${process.env.PATH}`;
  }
  const args = parseExecutorArgs(argv);
  const nofile = callerNofile();

  run.work = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'kaniko-executor.'));
  fs.chmodSync(run.work, 0o755);
  // A signal ends the run at once; finish() kills and deletes the container.
  for (const [signal, rc] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => { say(`interrupted (${signal})`); void run.finish(rc); });
  }
  const binds = checkMounts(args.mounts, run.work);
  const insecure = pullInsecure(image, args, process.env.KANIKO_IMAGE_INSECURE);
  const craneFlags = insecure ? ['--insecure'] : [];

  const rootfs = path.join(run.work, 'rootfs');
  say(`pulling ${image} into a private root filesystem (${rootfs})${insecure ? ' (crane --insecure)' : ''}`);
  fs.mkdirSync(rootfs);
  if (!await exportRootfs(image, rootfs, craneFlags, child => run.track(child))) throw new SetupError(`crane export ${image} failed`);
  run.checkRunning();
  if (!fs.existsSync(path.join(rootfs, 'kaniko', 'executor'))) throw new SetupError(`${image} has no /kaniko/executor`);
  const config = await imageConfig(image, craneFlags).catch(() => { throw new SetupError(`crane config ${image} failed`); });

  const bundle = path.join(run.work, 'bundle');
  fs.mkdirSync(bundle);
  if (spawnSync('runc', ['spec', '--bundle', bundle], { stdio: 'inherit' }).status !== 0) throw new SetupError('runc spec failed');
  const specFile = path.join(bundle, 'config.json');
  // No --force. kaniko refuses to run ("kaniko should only be run inside of a container") unless
  // proc.GetContainerRuntime recognises a container: docker/kube/podman/... in /proc/self/cgroup
  // or /proc/1/cmdline, $container, /.dockerenv, an overlay root, ... It passes here, but only
  // because the executor is PID 1 of its pid namespace and its cmdline has "--dockerfile", which
  // contains "docker" (the build CLI always passes it); nothing else marks a bare runc container
  // on a directory root. If a call without --dockerfile (or a later kaniko) is refused, add
  // --force to the args: that is safe here, the root filesystem is this run's throw-away copy.
  const spec = executorSpec(JSON.parse(fs.readFileSync(specFile, 'utf-8')), {
    rootfs, args: ['/kaniko/executor', ...argv], image: config, binds, resolvConf: fs.realpathSync('/etc/resolv.conf'), nofile,
  });
  fs.writeFileSync(specFile, JSON.stringify(spec, null, 2));

  say(`running /kaniko/executor in runc container ${run.id}: host network, caps ${KANIKO_CAPABILITIES.join(',')}, no_new_privs, seccomp denylist`);
  for (const b of binds) say(`  mount ${b.destination} (${b.mode})`);
  run.checkRunning();
  // The executor writes straight to our stdout and stderr (terminal=false). runc gets a process
  // group of its own, so a ^C reaches only us and we kill the container (a shell's background job
  // ignores it the same way).
  run.runc = spawn('runc', ['--root', run.state, 'run', '--bundle', bundle, run.id], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  run.ran = true;
  // runc run exits with the container process's status (128+N if a signal killed it).
  const rc = await exitStatus(run.runc);
  run.checkRunning();
  run.runc = undefined;
  say(`/kaniko/executor exited ${rc}`);
  return rc;
}

if (require.main === module) {
  const run = new Run();
  main(process.argv.slice(2), run).then(rc => run.finish(rc), (e: Error) => {
    // After a signal, finish() is already under way with the signal's status.
    if (run.finishing) return;
    if (e instanceof UsageError) {
      say(e.message);
      process.stderr.write(`${usage()}\n`);
      return run.finish(2);
    }
    say(`ERROR: ${e.message}`);
    return run.finish(125);
  });
}
