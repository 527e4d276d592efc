import { BUILDAH_BUILDER } from '../../src/image-build/buildah-builder';
import { BuildRequest } from '../../src/image-build/builder';
import { DEFAULT_KANIKO_EXECUTOR, KANIKO_BUILDER } from '../../src/image-build/kaniko-builder';
import { KO_BUILDER } from '../../src/image-build/ko-builder';
import { isLoopbackRegistry, locateRepository } from '../../src/image-build/registry';
import { defaultTag } from '../../src/image-build/source-commit';

const request: BuildRequest = {
  repository: '127.0.0.1:5000/acme/todo',
  tag: 'sha-0123456789ab',
  contextDir: '/src/app',
  dockerfile: '/src/app/Dockerfile',
  buildArgs: { RUNTIME_IMAGE: 'scratch', GO_IMAGE: 'golang:1.26' },
  insecure: true,
  scratchDir: '/tmp/scratch',
};

describe('ko', () => {
  test('builds the module in the context dir, bare, into KO_DOCKER_REPO', () => {
    expect(KO_BUILDER.commands(request, {})).toEqual([{
      file: 'ko',
      args: ['build', '--bare', '--image-refs', '/tmp/scratch/ko-image-refs', '--tags', 'sha-0123456789ab', '--insecure-registry', '.'],
      cwd: '/src/app',
      env: { KO_DOCKER_REPO: '127.0.0.1:5000/acme/todo' },
    }]);
  });

  test('needs ko and go; the title shows the base image override', () => {
    expect(KO_BUILDER.tools({})).toEqual(['ko', 'go']);
    expect(KO_BUILDER.title(request, { KO_DEFAULTBASEIMAGE: 'reg/base@sha256:1' }))
      .toBe('ko build (KO_DOCKER_REPO=127.0.0.1:5000/acme/todo, KO_DEFAULTBASEIMAGE=reg/base@sha256:1)');
    expect(KO_BUILDER.commands({ ...request, insecure: false }, {})[0].args).not.toContain('--insecure-registry');
  });
});

describe('kaniko', () => {
  test('executor arguments', () => {
    expect(KANIKO_BUILDER.commands(request, {})).toEqual([{
      file: DEFAULT_KANIKO_EXECUTOR,
      args: [
        '--context', 'dir:///src/app',
        '--dockerfile', '/src/app/Dockerfile',
        '--destination', '127.0.0.1:5000/acme/todo:sha-0123456789ab',
        '--digest-file', '/tmp/scratch/kaniko-digest',
        '--image-name-with-digest-file', '/tmp/scratch/kaniko-image-name-with-digest',
        '--reproducible',
        '--build-arg', 'GO_IMAGE=golang:1.26', '--build-arg', 'RUNTIME_IMAGE=scratch',
        '--insecure', '--skip-tls-verify', '--insecure-pull', '--skip-tls-verify-pull',
      ],
    }]);
  });

  test('KANIKO_EXECUTOR overrides the executor path', () => {
    const env = { KANIKO_EXECUTOR: '/opt/kaniko/executor' };
    expect(KANIKO_BUILDER.tools(env)).toEqual(['/opt/kaniko/executor']);
    expect(KANIKO_BUILDER.commands(request, env)[0].file).toBe('/opt/kaniko/executor');
  });
});

describe('buildah', () => {
  test('build then push with a digest file, TLS off for an insecure registry', () => {
    expect(BUILDAH_BUILDER.commands(request, {})).toEqual([
      {
        file: 'buildah',
        args: [
          'build', '--file', '/src/app/Dockerfile', '--tag', '127.0.0.1:5000/acme/todo:sha-0123456789ab',
          '--build-arg', 'GO_IMAGE=golang:1.26', '--build-arg', 'RUNTIME_IMAGE=scratch', '--tls-verify=false', '/src/app',
        ],
      },
      {
        file: 'buildah',
        args: [
          'push', '--digestfile', '/tmp/scratch/buildah-digest', '--tls-verify=false',
          '127.0.0.1:5000/acme/todo:sha-0123456789ab', 'docker://127.0.0.1:5000/acme/todo:sha-0123456789ab',
        ],
      },
    ]);
  });

  test('TLS verification stays on for remote registries', () => {
    const commands = BUILDAH_BUILDER.commands({ ...request, repository: 'ghcr.io/acme/todo', insecure: false }, {});
    expect(commands.flatMap(c => c.args)).not.toContain('--tls-verify=false');
  });
});

describe('registry addressing', () => {
  test.each([
    ['127.0.0.1:5000/acme/todo', true],
    ['localhost:5000/todo', true],
    ['localhost/todo', true],
    ['ghcr.io/acme/todo', false],
    ['acme/todo', false],
    ['127.0.0.1.nip.io/acme/todo', false],
  ])('%s loopback=%s', (repository, loopback) => {
    expect(isLoopbackRegistry(repository)).toBe(loopback);
  });

  test('API locations, including Docker Hub quirks', () => {
    expect(locateRepository('127.0.0.1:5000/acme/todo', true)).toEqual({ baseUrl: 'http://127.0.0.1:5000', path: 'acme/todo' });
    expect(locateRepository('ghcr.io/acme/todo', false)).toEqual({ baseUrl: 'https://ghcr.io', path: 'acme/todo' });
    expect(locateRepository('postgres', false)).toEqual({ baseUrl: 'https://registry-1.docker.io', path: 'library/postgres' });
    expect(locateRepository('docker.io/acme/todo', false)).toEqual({ baseUrl: 'https://registry-1.docker.io', path: 'acme/todo' });
  });
});

test('default tag follows the commit', () => {
  const commit = '0123456789abcdef0123456789abcdef01234567';
  expect(defaultTag({ commit, dirty: false })).toBe('sha-0123456789ab');
  expect(defaultTag({ commit, dirty: true })).toBe('sha-0123456789ab-dirty');
  expect(defaultTag({ dirty: false })).toBe('latest');
});
