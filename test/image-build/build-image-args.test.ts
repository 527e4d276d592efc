import { UsageError } from '../../src/common/cli-flags';
import { parseBuildImageArgs } from '../../src/image-build/build-image-args';

describe('parseBuildImageArgs', () => {
  test('minimal command line: name and context are left to the repository', () => {
    expect(parseBuildImageArgs(['--builder', 'ko', '--repository', 'ghcr.io/acme/todo'])).toEqual({
      builder: 'ko', repository: 'ghcr.io/acme/todo', buildArgs: {},
    });
  });

  test('every option, in both spellings', () => {
    expect(parseBuildImageArgs([
      '--builder=buildah', '--repository', '127.0.0.1:5000/acme/todo', '--name', 'web', '--context=ctx',
      '--dockerfile', 'ctx/Dockerfile.alt', '--build-arg', 'GO_IMAGE=golang:1.26', '--build-arg=EMPTY=', '--tag', 't1',
      '--lock', 'l.json', '--outdir', 'out', '--helm-dir=helm/web', '--insecure',
    ])).toEqual({
      builder: 'buildah',
      repository: '127.0.0.1:5000/acme/todo',
      name: 'web',
      context: 'ctx',
      dockerfile: 'ctx/Dockerfile.alt',
      buildArgs: { GO_IMAGE: 'golang:1.26', EMPTY: '' },
      tag: 't1',
      lockFile: 'l.json',
      outdir: 'out',
      helmDir: 'helm/web',
      insecure: true,
    });
  });

  test('help', () => {
    expect(parseBuildImageArgs(['--repository', 'x', '-h'])).toBeUndefined();
  });

  test.each([
    [[], /--builder is required/],
    [['--builder', 'podman', '--repository', 'r'], /"podman" is not one of ko, kaniko, buildah, docker, buildpacks/],
    [['--builder', 'ko'], /--repository is required/],
    [['--builder', 'ko', '--repository'], /--repository needs a value/],
    [['--builder', 'ko', '--repository', '--insecure'], /--repository needs a value/],
    [['--builder', 'ko', '--repository', 'r', '--tag', 'a', '--tag', 'b'], /--tag is given twice/],
    [['--builder', 'ko', '--repository', 'r', '--tag=a', '--tag', 'a'], /--tag is given twice/],
    [['--builder', 'ko', '--repository', 'r', '--push'], /unknown argument "--push"/],
    [['--builder', 'ko', '--repository', 'r', 'extra'], /unknown argument "extra"/],
    [['--builder', 'ko', '--repository', 'r', '--insecure=yes'], /--insecure takes no value/],
    [['--builder', 'buildah', '--repository', 'r', '--build-arg', 'NOEQUALS'], /not KEY=VALUE/],
  ])('%j is a usage error', (argv, error) => {
    expect(() => parseBuildImageArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseBuildImageArgs(argv as string[])).toThrow(error);
  });
});
