import { BUILDAH_BUILDER } from '../../src/image-build/buildah-builder';
import { BuildRequest } from '../../src/image-build/builder';
import { builderFor } from '../../src/image-build/builders';
import { BUILDPACKS_BUILDER, parseCreatorReport } from '../../src/image-build/buildpacks-builder';
import { DOCKER_BUILDER, parseDockerPushDigest } from '../../src/image-build/docker-builder';
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

describe('docker', () => {
  test('BuildKit build with the build args, then a push whose output is kept for the digest', () => {
    expect(DOCKER_BUILDER.commands(request, {})).toEqual([
      {
        file: 'docker',
        args: [
          'build', '--file', '/src/app/Dockerfile', '--tag', '127.0.0.1:5000/acme/todo:sha-0123456789ab',
          '--build-arg', 'GO_IMAGE=golang:1.26', '--build-arg', 'RUNTIME_IMAGE=scratch', '/src/app',
        ],
        env: { DOCKER_BUILDKIT: '1' },
      },
      { file: 'docker', args: ['push', '127.0.0.1:5000/acme/todo:sha-0123456789ab'], stdoutFile: '/tmp/scratch/docker-push-output' },
    ]);
  });

  test('DOCKER_CLI chooses the client; the title names the daemon', () => {
    const env = { DOCKER_CLI: '/usr/bin/docker', DOCKER_HOST: 'unix:///tmp/d/docker.sock' };
    expect(DOCKER_BUILDER.tools(env)).toEqual(['/usr/bin/docker']);
    expect(DOCKER_BUILDER.commands(request, env).map(c => c.file)).toEqual(['/usr/bin/docker', '/usr/bin/docker']);
    expect(DOCKER_BUILDER.title(request, env)).toContain('(daemon unix:///tmp/d/docker.sock)');
  });

  test('the digest is the one docker push printed for the tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const output = `The push refers to repository [127.0.0.1:5000/acme/todo]\n5f70bf18a086: Pushed\nsha-0123456789ab: digest: ${digest} size: 528\n`;
    expect(parseDockerPushDigest(output, 'sha-0123456789ab')).toBe(digest);
    expect(() => parseDockerPushDigest(output, 'other')).toThrow(/no "other: digest: sha256:\.\.\. size: N" line/);
    expect(() => parseDockerPushDigest('t: digest: sha256:xyz size: 1', 't')).toThrow(/does not hold a digest/);
  });
});

describe('buildpacks', () => {
  const env = { CNB_BUILDER_IMAGE: '127.0.0.1:5000/cnb/builder@sha256:1' };

  test('runs the lifecycle creator in the builder image, publishing with a registry cache', () => {
    expect(BUILDPACKS_BUILDER.commands(request, env)).toEqual([{
      file: 'docker',
      args: [
        'run', '--rm', '--network', 'host',
        '--volume', '/src/app:/workspace:ro',
        '--volume', '/tmp/scratch/cnb-platform:/platform:ro',
        '--volume', '/tmp/scratch/cnb-out:/out',
        '--env', 'CNB_PLATFORM_API=0.14',
        '127.0.0.1:5000/cnb/builder@sha256:1',
        '/cnb/lifecycle/creator',
        '-app', '/workspace', '-layers', '/layers', '-platform', '/platform', '-report', '/out/report.toml',
        '-cache-image', '127.0.0.1:5000/acme/todo:buildpacks-cache',
        '-insecure-registry', '127.0.0.1:5000',
        '-log-level', 'info',
        '127.0.0.1:5000/acme/todo:sha-0123456789ab',
      ],
    }]);
  });

  test('registry credentials are passed by name, never on the command line; TLS stays on for remote registries', () => {
    const args = BUILDPACKS_BUILDER.commands({ ...request, repository: 'ghcr.io/acme/todo', insecure: false }, { ...env, CNB_REGISTRY_AUTH: '{"ghcr.io":"Basic c2VjcmV0"}' })[0].args;
    expect(args).toContain('CNB_REGISTRY_AUTH');
    expect(args.join(' ')).not.toContain('c2VjcmV0');
    expect(args).not.toContain('-insecure-registry');
  });

  test('takes build args, no Dockerfile, and needs CNB_BUILDER_IMAGE', () => {
    expect(BUILDPACKS_BUILDER.usesDockerfile).toBe(false);
    expect(BUILDPACKS_BUILDER.acceptsBuildArgs).toBe(true);
    expect(() => BUILDPACKS_BUILDER.checkSettings!({})).toThrow(/CNB_BUILDER_IMAGE is not set/);
    expect(() => BUILDPACKS_BUILDER.checkSettings!(env)).not.toThrow();
  });

  test('reads the digest from the [image] table of report.toml', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const report = `[build]\n  digest = "sha256:${'c'.repeat(64)}"\n\n[image]\n  tags = ["r:t"]\n  digest = "${digest}"\n  manifest-size = 1397\n`;
    expect(parseCreatorReport(report)).toBe(digest);
    expect(() => parseCreatorReport('[image]\n  tags = ["r:t"]\n')).toThrow(/report\.toml has no \[image\] digest/);
  });
});

test('every builder name has its builder', () => {
  for (const name of ['ko', 'kaniko', 'buildah', 'docker', 'buildpacks'] as const) expect(builderFor(name).name).toBe(name);
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
