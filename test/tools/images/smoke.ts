/**
 * The program behind test/tools/images/smoke.sh (usage and what each check proves: that script's
 * header): runs the images build.sh made, for real, without Docker. Each container is the image's
 * root filesystem (crane export) started by runc, shaped like the pod the constructs in src/
 * render. Prints "[smoke] ok: ..." / "[smoke] FAILED: ..." per check and "smoke: N passed, N
 * failed"; exits 0 only if every check passed. Every container, network namespace and temp dir it
 * makes is removed on exit, also on SIGINT/SIGTERM.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { exitStatus, exportFile, exportRootfs, imageConfig, ImageConfig } from './runc-image';
import { KANIKO_CAPABILITIES } from '../../../src/image-build/kaniko-build-job';
import { interrupt, onPath, sh, waitUntil } from '../cluster/sys';

const WRAPPER = path.join(__dirname, 'smoke.sh');

/** What differs between the containers here; the rest of their OCI runtime spec is common. */
export interface SmokeContainer {
  readonly image: ImageConfig;
  readonly hostname: string;
  readonly user: number;
  readonly group: number;
  readonly groups?: number[];
  readonly readonly?: boolean;
  readonly caps?: string[];
  /** The container's command; default the image's entrypoint and command. */
  readonly args?: string[];
  /** NAME=VALUE, over the image's. */
  readonly env?: string[];
  /** [host path, container path]: read-write bind mounts. */
  readonly binds?: Array<[string, string]>;
  /** [container path, tmpfs options]. */
  readonly tmpfs?: Array<[string, string[]]>;
  /** A network namespace to join (a path under /var/run/netns); default the host's network. */
  readonly netns?: string;
}

/** The OCI runtime spec of a container with root filesystem `rootfs`: a pod's container, as runc runs it. */
export function containerSpec(rootfs: string, s: SmokeContainer): object {
  const env = new Map<string, string>();
  for (const e of [...(s.image.Env ?? []), ...(s.env ?? [])]) {
    const i = e.indexOf('=');
    env.set(e.slice(0, i), e.slice(i + 1));
  }
  env.set('HOSTNAME', s.hostname);
  const caps = s.caps ?? [];
  const namespaces: object[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (s.netns) namespaces.push({ type: 'network', path: s.netns });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: s.user, gid: s.group, additionalGids: s.groups ?? [] },
      args: s.args ?? [...(s.image.Entrypoint ?? []), ...(s.image.Cmd ?? [])],
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: s.image.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: !!s.readonly },
    hostname: s.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...(s.tmpfs ?? []).map(([d, o]) => ({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...o] })),
      ...(s.binds ?? []).map(([src, d]) => ({ destination: d, type: 'bind', source: src, options: ['rbind', 'rw'] })),
    ],
    linux: {
      namespaces,
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** A step that cannot go on (its FAILED line is printed): the run ends with status 1, without the summary. */
class Abort extends Error {}

const say = (line: string) => process.stderr.write(`[smoke] ${line}\n`);
/** Each line of `text` (trailing newlines dropped, as a shell's $(...) does) after `prefix`. */
const show = (prefix: string, text: string) => process.stderr.write(`${text.replace(/\n+$/, '').split('\n').map(l => `${prefix}${l}`).join('\n')}\n`);

/** One smoke run: its checks, containers, network namespace and work directory. */
class Smoke {
  passed = 0;
  failed = 0;
  readonly work: string;
  readonly craneFlags: string[];
  netns = '';
  private readonly containers: string[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor() {
    this.work = fs.mkdtempSync('/tmp/images-smoke.');
    fs.chmodSync(this.work, 0o755);
    // IMAGES_INSECURE= (empty) refuses plain HTTP; default 1 (crane --insecure), as build.sh.
    this.craneFlags = (process.env.IMAGES_INSECURE ?? '1') ? ['--insecure'] : [];
  }

  ok(what: string): void { this.passed++; say(`ok: ${what}`); }
  bad(what: string): void { this.failed++; say(`FAILED: ${what}`); }
  check(passed: boolean, good: string, failure: string): boolean {
    if (passed) this.ok(good); else this.bad(failure);
    return passed;
  }

  get runcRoot(): string[] { return ['--root', path.join(this.work, 'runc-state')]; }
  /** runc ARGS on this run's containers; `mustSucceed` makes a failure end the run. */
  runc(args: string[], options: { input?: Buffer; mustSucceed?: boolean } = {}) {
    return sh('runc', [...this.runcRoot, ...args], { allowFail: !options.mustSucceed, input: options.input });
  }
  inPod(file: string, args: string[]) { return sh('ip', ['netns', 'exec', this.netns, file, ...args], { allowFail: true }); }
  log(id: string): string { return path.join(this.work, `${id}.log`); }
  showLog(id: string): void { show('[smoke]   | ', fs.readFileSync(this.log(id), 'utf-8')); }

  /** The image's root filesystem in WORK/NAME, and its config. */
  async image(ref: string, name: string): Promise<ImageConfig> {
    const dir = path.join(this.work, name);
    fs.mkdirSync(dir, { recursive: true });
    if (!await exportRootfs(ref, dir, this.craneFlags, child => this.track(child))) throw new Error(`crane export ${ref} failed`);
    return imageConfig(ref, this.craneFlags);
  }

  /** Writes the bundle WORK/ID (config.json) for `rootfs` and runs the container detached, output to WORK/ID.log. */
  async start(id: string, rootfs: string, container: SmokeContainer): Promise<void> {
    const bundle = path.join(this.work, id);
    fs.mkdirSync(bundle, { recursive: true });
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(containerSpec(path.join(this.work, rootfs), container), null, 1));
    this.containers.push(id);
    const out = fs.openSync(this.log(id), 'w');
    const child = spawn('runc', [...this.runcRoot, 'run', '--detach', '--bundle', bundle, id], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.track(child);
    if (await exitStatus(child) !== 0) {
      this.bad(`runc run ${id}`);
      this.showLog(id);
      throw new Abort();
    }
  }

  async stopped(id: string): Promise<boolean> {
    return /"status": "stopped"/.test((await this.runc(['state', id])).stdout);
  }

  /** Polls `probe` every half second for `seconds`; a timeout is a failed check. */
  async waitFor(seconds: number, what: string, probe: () => Promise<boolean>): Promise<boolean> {
    try {
      await waitUntil(what, seconds, probe, undefined, 500);
      return true;
    } catch {
      this.bad(`${what} (not within ${seconds}s)`);
      return false;
    }
  }

  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Removes every container, the network namespace and the work directory. */
  cleanup(): void {
    for (const child of this.children) child.kill('SIGKILL');
    for (const id of this.containers) spawnSync('runc', [...this.runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
    if (this.netns) spawnSync('ip', ['netns', 'delete', this.netns], { stdio: 'ignore' });
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

async function smokePostgres(t: Smoke, pgRef: string, exporterRef: string): Promise<void> {
  const pw = 'smoke-password-1';
  const podIp = '198.18.0.1';
  const w = (p: string) => path.join(t.work, p);
  say(`postgres: ${pgRef}`);
  say(`exporter: ${exporterRef}`);
  const pgImage = await t.image(pgRef, 'pg-root');
  const exporterImage = await t.image(exporterRef, 'exp-root');

  // The pod: its network namespace (the sandbox's), and its volumes as the kubelet makes them
  // with fsGroup 70: the data PVC's root group 70 and group-writable with setgid (a fresh
  // filesystem, owned by root), emptyDirs 0777 + setgid group 70.
  t.netns = `images-smoke-${process.pid}`;
  await sh('ip', ['netns', 'add', t.netns]);
  await sh('ip', ['netns', 'exec', t.netns, 'ip', 'link', 'set', 'lo', 'up']);
  // The pod's own address, only inside this namespace (198.18.0.0/15 is reserved for such
  // tests): clients of other pods come from an address like it, not from 127.0.0.1, which the
  // pg_hba.conf initdb writes trusts without a password (as in the official image).
  await sh('ip', ['netns', 'exec', t.netns, 'ip', 'addr', 'add', `${podIp}/32`, 'dev', 'lo']);
  for (const [d, mode] of [['data', 0o2775], ['run', 0o2777], ['tmp', 0o2777], ['backups', 0o2777], ['backup-tmp', 0o2777]] as const) {
    fs.mkdirSync(w(`vol/${d}`), { recursive: true });
    fs.chownSync(w(`vol/${d}`), 0, 70);
    fs.chmodSync(w(`vol/${d}`), mode);
  }
  const netns = `/var/run/netns/${t.netns}`;
  const pgContainer: SmokeContainer = {
    image: pgImage,
    hostname: 'db-0',
    user: 70,
    group: 70,
    groups: [70],
    readonly: true,
    netns,
    env: ['POSTGRES_USER=app', `POSTGRES_PASSWORD=${pw}`, 'POSTGRES_DB=app', 'PGDATA=/var/lib/postgresql/data/pgdata'],
    binds: [[w('vol/data'), '/var/lib/postgresql/data'], [w('vol/run'), '/var/run/postgresql'], [w('vol/tmp'), '/tmp']],
    tmpfs: [['/dev/shm', ['mode=1777', 'size=262144k']]],
  };
  let t0 = Date.now();
  const secondsSince = (since: number) => Math.floor((Date.now() - since) / 1000);
  await t.start('pg-1', 'pg-root', pgContainer);
  // The startup/readiness probe, exactly: exec pg_isready in the container.
  const ready = (id: string) => async () => (await t.runc(['exec', id, 'pg_isready', '--host=127.0.0.1', '--port=5432'])).code === 0;
  if (!await t.waitFor(120, 'postgres ready (pg_isready probe)', ready('pg-1'))) {
    t.showLog('pg-1');
    throw new Abort();
  }
  t.ok(`first start: initdb + start, pg_isready probe passes after ${secondsSince(t0)}s`);
  const log1 = fs.readFileSync(t.log('pg-1'), 'utf-8');
  t.check(log1.includes('PostgreSQL init process complete; ready for start up.'), 'entrypoint ran initdb and its setup ("init process complete")', "no 'init process complete' in the log");
  const startup = log1.split('\n').filter(l => /initdb|fixing permissions|creating subdirectories|listening on/.test(l)).slice(0, 6);
  if (startup.length) show('[smoke]   | ', startup.join('\n'));

  // A client over TCP to the pod's address with the password (pg_hba.conf: the entrypoint's
  // "host all all all scram-sha-256"), from outside the container in the pod's network
  // namespace: the host's psql, else the image's.
  let pgContainerId = 'pg-1';
  const psql = async (args: string[]) => {
    const r = onPath('psql') ? await t.inPod('psql', args) : await t.runc(['exec', pgContainerId, 'psql', ...args]);
    return { code: r.code, out: `${r.stdout}${r.stderr}`.replace(/\n+$/, '') };
  };
  const url = `postgresql://app:${pw}@${podIp}:5432/app?sslmode=disable`;
  let r = await psql([url, '-Atc', "CREATE TABLE todo (id int primary key, title text); INSERT INTO todo VALUES (1, 'survive a restart'); SELECT current_user, current_database(), version();"]);
  if (!t.check(r.code === 0, `query over TCP with password: ${r.out}`, `query over TCP: ${r.out}`)) {
    t.showLog('pg-1');
    throw new Abort();
  }
  r = await psql([`postgresql://app:wrong@${podIp}:5432/app?sslmode=disable`, '-Atc', 'select 1']);
  const fatal = r.out.lastIndexOf('FATAL:  ');
  t.check(r.code !== 0, `wrong password refused: ${fatal < 0 ? r.out : r.out.slice(fatal + 'FATAL:  '.length)}`, 'a wrong password was accepted');
  const inside = await t.runc(['exec', 'pg-1', 'sh', '-c', 'id; echo "PGDATA=$PGDATA"; ls -ld "$PGDATA" /var/run/postgresql; touch /probe 2>&1; grep -v "^#" "$PGDATA/pg_hba.conf" | grep .; psql -U app -d app -Atc "show data_directory; show jit; set jit_above_cost=0; select count(*) from generate_series(1,1000)"']);
  const insideOut = `${inside.stdout}${inside.stderr}`;
  show('[smoke]   | ', insideOut);
  t.check(insideOut.includes('Read-only file system'), 'root filesystem is read-only in the container', 'root filesystem writable?');

  // The backup CronJob's container: same image, the sh -c script of src/postgres/backup.ts
  // (copied; retention 7 days), /backups + /tmp volumes, connecting to the pod's address.
  const script = ['set -eu', 'file="/backups/${PGDATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"', 'pg_dump --format=custom --file="${file}.partial"',
    'mv "${file}.partial" "${file}"', "find /backups -name '*.dump' -mtime +7 -delete", 'echo "backup written: ${file}"'].join('\n');
  await t.start('backup', 'pg-root', {
    image: pgImage,
    hostname: 'db-backup',
    user: 70,
    group: 70,
    groups: [70],
    readonly: true,
    netns,
    args: ['sh', '-c', script],
    env: [`PGHOST=${podIp}`, 'PGPORT=5432', 'PGDATABASE=app', 'PGUSER=app', `PGPASSWORD=${pw}`],
    binds: [[w('vol/backups'), '/backups'], [w('vol/backup-tmp'), '/tmp']],
  });
  await t.waitFor(60, 'backup job finished', () => t.stopped('backup'));
  const backupLog = fs.readFileSync(t.log('backup'), 'utf-8');
  const dumps = fs.readdirSync(w('vol/backups')).filter(f => f.startsWith('app-') && f.endsWith('.dump')).map(f => w(`vol/backups/${f}`));
  if (backupLog.includes('backup written: /backups/app-') && dumps.length) {
    t.ok(`backup CronJob script: ${backupLog.replace(/\n+$/, '').split('\n').pop()}, ${dumps.map(d => fs.statSync(d).size).join(' ')} bytes`);
    const restore = await t.runc(['exec', 'pg-1', 'sh', '-c', 'cat > /tmp/b.dump && pg_restore --list /tmp/b.dump | grep -c "TABLE DATA"'], { input: fs.readFileSync(dumps[0]) });
    const restoreOut = `${restore.stdout}${restore.stderr}`.replace(/\n+$/, '');
    t.check(restore.code === 0, `pg_restore --list reads the dump (${restoreOut} TABLE DATA entry)`, `pg_restore --list: ${restoreOut}`);
  } else {
    t.bad('backup job');
    t.showLog('backup');
  }

  // The metrics sidecar: uid 65534, pod group 70, read-only root, no volumes.
  await t.start('exp', 'exp-root', {
    image: exporterImage,
    hostname: 'db-0',
    user: 65534,
    group: 70,
    groups: [70],
    readonly: true,
    netns,
    env: ['DATA_SOURCE_URI=127.0.0.1:5432/app?sslmode=disable', 'DATA_SOURCE_USER=app', `DATA_SOURCE_PASS=${pw}`],
  });
  if (await t.waitFor(30, 'exporter answers on :9187', async () => (await t.inPod('curl', ['-fsS', '-o', '/dev/null', 'http://127.0.0.1:9187/'])).code === 0)) {
    const metrics = (await t.inPod('curl', ['-fsS', 'http://127.0.0.1:9187/metrics'])).stdout.split('\n')
      .filter(l => /^(pg_up|pg_static|postgres_exporter_build_info)/.test(l)).join('\n');
    show('[smoke]   | ', metrics);
    if (!t.check(metrics.split('\n').includes('pg_up 1'), 'exporter /metrics has pg_up 1', 'no pg_up 1')) t.showLog('exp');
  } else {
    t.showLog('exp');
  }

  // Stop as the kubelet does: the image's STOPSIGNAL (SIGINT, fast shutdown), then restart.
  t0 = Date.now();
  await t.runc(['kill', 'pg-1', 'SIGINT'], { mustSucceed: true });
  if (await t.waitFor(60, 'postgres stopped on SIGINT', () => t.stopped('pg-1'))) {
    const shutDown = fs.readFileSync(t.log('pg-1'), 'utf-8').match(/database system is shut down/g);
    t.ok(`SIGINT: stopped in ${secondsSince(t0)}s: ${shutDown ? shutDown[shutDown.length - 1] : ''}`);
  }
  await t.runc(['delete', 'pg-1'], { mustSucceed: true });
  await t.start('pg-2', 'pg-root', pgContainer);
  pgContainerId = 'pg-2';
  if (await t.waitFor(60, 'postgres ready after restart', ready('pg-2'))) {
    t.check(fs.readFileSync(t.log('pg-2'), 'utf-8').includes('Skipping initialization'),
      'restart: entrypoint found the database and skipped initialization', 'restart re-initialized?');
    r = await psql([url, '-Atc', 'SELECT title FROM todo WHERE id = 1']);
    t.check(r.out === 'survive a restart', `restart kept the data: '${r.out}'`, `after restart: ${r.out}`);
  } else {
    t.showLog('pg-2');
  }
  await t.runc(['kill', 'exp', 'SIGTERM']);
  await t.runc(['kill', 'pg-2', 'SIGINT']);
  await t.waitFor(60, 'postgres stopped', () => t.stopped('pg-2'));
  show('[smoke]   data volume: ', (await sh('ls', ['-ln', w('vol/data')])).stdout);
}

async function smokeKaniko(t: Smoke, ref: string, registry: string): Promise<void> {
  const w = (p: string) => path.join(t.work, p);
  say(`kaniko: ${ref}`);
  const image = await t.image(ref, 'kaniko-root');
  // Root with only KANIKO_CAPABILITIES (src/image-build/kaniko-build-job.ts), its own private
  // copy of the image as a writable root filesystem, the host's network (the registry listens on
  // the host's loopback).
  const kaniko = { image, hostname: 'kaniko', user: 0, group: 0, caps: KANIKO_CAPABILITIES.map(c => `CAP_${c}`) };
  await t.start('kaniko-version', 'kaniko-root', { ...kaniko, args: ['/kaniko/executor', 'version'] });
  await t.waitFor(30, 'executor version exits', () => t.stopped('kaniko-version'));
  const version = fs.readFileSync(t.log('kaniko-version'), 'utf-8').replace(/\n+$/, '');
  t.check(version.includes('v1.'), `/kaniko/executor version in the container: ${version}`, `executor version: ${version}`);

  // A build: base image pulled from the registry, one COPY, pushed with --digest-file.
  const base = `${registry}/prometheuscommunity/postgres-exporter:v0.19.1`;
  fs.mkdirSync(w('context'), { recursive: true });
  fs.writeFileSync(w('context/Dockerfile'), `FROM ${base}\nCOPY hello.txt /hello.txt\n`);
  fs.writeFileSync(w('context/hello.txt'), 'built by kaniko in smoke.sh\n');
  // --force: kaniko looks for a container runtime in /proc/self/cgroup, /proc/mounts and the like;
  // a bare runc container with a directory rootfs on cgroup v1 shows none of them.
  await t.start('kaniko-build', 'kaniko-root', {
    ...kaniko,
    args: ['/kaniko/executor', '--force', '--context=dir:///workspace', '--dockerfile=Dockerfile',
      `--destination=${registry}/smoke/kaniko-built:latest`, '--digest-file=/workspace/digest', '--reproducible',
      '--insecure', '--insecure-pull', '--skip-tls-verify', '--skip-tls-verify-pull'],
    binds: [[w('context'), '/workspace']],
  });
  const t0 = Date.now();
  await t.waitFor(300, 'kaniko build finished', () => t.stopped('kaniko-build'));
  show('[smoke]   | ', fs.readFileSync(t.log('kaniko-build'), 'utf-8').replace(/\n+$/, '').split('\n').slice(-12).join('\n'));
  const digestFile = w('context/digest');
  if (!fs.existsSync(digestFile) || fs.statSync(digestFile).size === 0) {
    t.bad('kaniko build (no digest file)');
    return;
  }
  const digest = fs.readFileSync(digestFile, 'utf-8');
  t.ok(`kaniko built and pushed ${registry}/smoke/kaniko-built@${digest} in ${Math.floor((Date.now() - t0) / 1000)}s`);
  const file = await exportFile(`${registry}/smoke/kaniko-built@${digest}`, 'hello.txt', t.craneFlags, child => t.track(child));
  const content = file.out.replace(/\n+$/, '');
  t.check(file.ok && content === 'built by kaniko in smoke.sh', "the pushed image has the COPY'd file", `pushed image content: ${content}`);
}

/** The wrapper's header, its usage text. */
function usage(): never {
  const lines = fs.readFileSync(WRAPPER, 'utf-8').split('\n');
  const end = lines.findIndex((l, i) => i > 0 && !l.startsWith('#'));
  process.stderr.write(`${lines.slice(1, end).map(l => l.replace(/^# ?/, '')).join('\n').replace(/\n+$/, '')}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  const [what, ref, other] = argv;
  if (what !== 'postgres' && what !== 'kaniko') usage();
  if (process.getuid?.() !== 0) {
    process.stderr.write('smoke.sh: run as root (runc, ip netns)\n');
    return 2;
  }
  for (const tool of ['runc', 'ip', 'crane', 'curl']) {
    if (!onPath(tool)) {
      process.stderr.write(`smoke.sh: ${tool} not found\n`);
      return 2;
    }
  }
  if (argv.length !== 3) {
    process.stderr.write(what === 'postgres' ? 'usage: smoke.sh postgres POSTGRES_REF EXPORTER_REF\n' : 'usage: smoke.sh kaniko KANIKO_REF REGISTRY\n');
    return 2;
  }
  const t = new Smoke();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => { interrupt(signal); t.cleanup(); process.exit(130); });
  }
  try {
    if (what === 'postgres') await smokePostgres(t, ref, other);
    else await smokeKaniko(t, ref, other);
  } catch (e) {
    if (!(e instanceof Abort)) say(`ERROR: ${(e as Error).message}`);
    t.cleanup();
    return 1;
  }
  t.cleanup();
  process.stderr.write(`smoke: ${t.passed} passed, ${t.failed} failed\n`);
  return t.failed === 0 ? 0 : 1;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(rc => process.exit(rc));
}
