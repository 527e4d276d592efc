import { KANIKO_CAPABILITIES } from '../../src/image-build/kaniko-build-job';
import {
  checkMounts, executorSpec, parseExecutorArgs, pullInsecure, SetupError, UsageError,
} from '../tools/images/kaniko-executor';

// test/tools/images/kaniko-executor.ts: what the executor's args ask of its runc container. The run
// itself (runc, a registry) is proved by test/e2e/image-build.ts.

const WORK = '/tmp/kaniko-executor.test';
/** A host where every path exists as itself, but nothing under `missing`. */
const realpath = (missing = '/nonexistent') => (p: string) => {
  if (p.startsWith(missing)) throw new Error('ENOENT');
  return p === '/link' ? '/target' : p;
};

describe('parseExecutorArgs', () => {
  test('the build CLI\'s args: the context read-only, the digest file\'s directory read-write', () => {
    expect(parseExecutorArgs(['--context', 'dir:///src/app/', '--dockerfile', 'Dockerfile', '--destination', '127.0.0.1:5000/acme/todo:1',
      '--digest-file=/out/digest', '--insecure'])).toEqual({
      mounts: [{ mode: 'rw', path: '/out' }, { mode: 'ro', path: '/src/app' }],
      destination: '127.0.0.1:5000/acme/todo:1',
      insecure: true,
    });
  });

  test('short flags, a plain context path, the first destination, a Dockerfile outside the context', () => {
    expect(parseExecutorArgs(['-c', '/ctx', '-f', '/elsewhere/Dockerfile', '-d', 'r/a', '-d', 'r/b', '--tar-path', '/tars/image.tar'])).toEqual({
      mounts: [{ mode: 'rw', path: '/tars' }, { mode: 'ro', path: '/ctx' }, { mode: 'ro', path: '/elsewhere/Dockerfile' }],
      destination: 'r/a',
      insecure: false,
    });
  });

  test('a Dockerfile inside the context and contexts fetched over the network mount nothing more', () => {
    expect(parseExecutorArgs(['--context=/ctx', '--dockerfile=/ctx/sub/Dockerfile']).mounts).toEqual([{ mode: 'ro', path: '/ctx' }]);
    expect(parseExecutorArgs(['--context=git://github.com/acme/todo.git']).mounts).toEqual([]);
    expect(parseExecutorArgs(['--context=tar:///in/context.tar.gz']).mounts).toEqual([{ mode: 'ro', path: '/in' }]);
  });

  test('a flag\'s value is never read as a flag', () => {
    expect(parseExecutorArgs(['--build-arg', 'X=1', '--destination', '--insecure']).insecure).toBe(false);
  });

  test('relative paths are usage errors: the container\'s working directory is not the caller\'s', () => {
    expect(() => parseExecutorArgs(['--digest-file=digest'])).toThrow(new UsageError("--digest-file=digest must be an absolute path (the container's working directory is not the caller's), got 'digest'"));
    expect(() => parseExecutorArgs(['--context', 'dir://app'])).toThrow(new UsageError("--context must be an absolute path, got 'dir://app'"));
  });
});

describe('checkMounts', () => {
  test('duplicates collapse, read-write wins, sorted so a directory comes before what is inside it, symlinks resolved for the source only', () => {
    expect(checkMounts([{ mode: 'ro', path: '/src/app/' }, { mode: 'ro', path: '/src' }, { mode: 'rw', path: '/src/./app' }, { mode: 'ro', path: '/link' }], WORK, realpath())).toEqual([
      { destination: '/link', source: '/target', mode: 'ro' },
      { destination: '/src', source: '/src', mode: 'ro' },
      { destination: '/src/app', source: '/src/app', mode: 'rw' },
    ]);
  });

  test.each([
    ['/', 'refusing to mount / into the container'],
    ['/proc/self', 'refusing to mount /proc/self into the container'],
    ['/kaniko', 'refusing to mount /kaniko into the container'],
    ['/etc/resolv.conf', 'refusing to mount /etc/resolv.conf into the container'],
    ['/tmp', `/tmp holds ${WORK}, this run's root filesystem; set TMPDIR elsewhere`],
    ['/nonexistent/dir', "/nonexistent/dir (from the executor's args) does not exist on the host"],
  ])('%s is refused', (p, message) => {
    expect(() => checkMounts([{ mode: 'ro', path: p }], WORK, realpath())).toThrow(new SetupError(message));
  });
});

describe('pullInsecure', () => {
  const args = (destination: string, insecure: boolean) => ({ mounts: [], destination, insecure });
  const image = 'registry.test:5000/kaniko-project/executor@sha256:' + 'a'.repeat(64);

  test('by default only from the destination\'s registry, when the push is insecure too', () => {
    expect(pullInsecure(image, args('registry.test:5000/acme/todo', true), undefined)).toBe(true);
    expect(pullInsecure(image, args('registry.test:5000/acme/todo', false), '')).toBe(false);
    expect(pullInsecure(image, args('other.test/acme/todo', true), undefined)).toBe(false);
  });

  test('KANIKO_IMAGE_INSECURE decides; loopback never needs it', () => {
    expect(pullInsecure(image, args('', false), '1')).toBe(true);
    expect(pullInsecure(image, args('registry.test:5000/a', true), '0')).toBe(false);
    expect(pullInsecure('127.0.0.1:5000/k@sha256:' + 'a'.repeat(64), args('127.0.0.1:5000/a', true), '1')).toBe(false);
    expect(() => pullInsecure(image, args('', false), 'yes')).toThrow(new UsageError("KANIKO_IMAGE_INSECURE must be 0 or 1, got 'yes'"));
  });
});

test('executorSpec: runc\'s default spec changed to the KanikoBuildJob\'s container', () => {
  const base = {
    ociVersion: '1.0.2',
    process: { terminal: true, user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin'], cwd: '/', apparmorProfile: 'x' },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'mount' }], maskedPaths: ['/proc/kcore'] },
  };
  const spec = executorSpec(base, {
    rootfs: `${WORK}/rootfs`,
    args: ['/kaniko/executor', '--dockerfile', 'Dockerfile'],
    image: { Env: ['HOME=/root'], WorkingDir: '/workspace' },
    binds: [{ destination: '/ctx', source: '/real/ctx', mode: 'ro' }, { destination: '/out', source: '/out', mode: 'rw' }],
    resolvConf: '/run/resolv.conf',
    nofile: { soft: 1024, hard: 4096 },
  });
  const caps = KANIKO_CAPABILITIES.map(c => `CAP_${c}`);
  expect(spec.process).toEqual({
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['/kaniko/executor', '--dockerfile', 'Dockerfile'],
    env: ['HOME=/root', 'HOSTNAME=kaniko'],
    cwd: '/workspace',
    apparmorProfile: 'x',
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: true,
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 }],
  });
  expect(spec.root).toEqual({ path: `${WORK}/rootfs`, readonly: false });
  expect(spec.mounts).toEqual([
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/ctx', type: 'bind', source: '/real/ctx', options: ['rbind', 'rro', 'nosuid', 'nodev'] },
    { destination: '/out', type: 'bind', source: '/out', options: ['rbind', 'rw', 'nosuid', 'nodev'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: '/run/resolv.conf', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
  ]);
  expect(spec.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'mount' }]);
  expect(spec.linux.maskedPaths).toEqual(['/proc/kcore']);
  expect(spec.linux.seccomp).toMatchObject({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
  expect(spec.linux.seccomp.syscalls[0].names).toEqual(expect.arrayContaining(['mount', 'unshare', 'setns', 'ptrace', 'bpf', 'keyctl']));
  expect(spec.hostname).toBe('kaniko');
});
