import { UsageError } from '../../src/common/cli-flags';
import { parseArgs } from '../../src/image-build/cli-args';

describe('parseArgs', () => {
  test('minimal command line', () => {
    expect(parseArgs(['--builder', 'ko', '--repository', 'ghcr.io/acme/todo'])).toEqual({
      help: false,
      options: { builder: 'ko', repository: 'ghcr.io/acme/todo', buildArgs: {} },
    });
  });

  test('every option, in both spellings', () => {
    const parsed = parseArgs([
      '--builder=buildah', '--repository', '127.0.0.1:5000/acme/todo', '--name', 'web', '--context=ctx',
      '--dockerfile', 'ctx/Dockerfile.alt', '--build-arg', 'GO_IMAGE=golang:1.26', '--build-arg=EMPTY=', '--tag', 't1',
      '--lock', 'l.json', '--outdir', 'out', '--insecure',
    ]);
    expect(parsed).toEqual({
      help: false,
      options: {
        builder: 'buildah',
        repository: '127.0.0.1:5000/acme/todo',
        name: 'web',
        context: 'ctx',
        dockerfile: 'ctx/Dockerfile.alt',
        buildArgs: { GO_IMAGE: 'golang:1.26', EMPTY: '' },
        tag: 't1',
        lockFile: 'l.json',
        outdir: 'out',
        insecure: true,
      },
    });
  });

  test('help', () => {
    expect(parseArgs(['--repository', 'x', '-h'])).toEqual({ help: true });
  });

  test.each([
    [[], /--builder is required/],
    [['--builder', 'podman', '--repository', 'r'], /"podman" is not one of ko, kaniko, buildah, docker, buildpacks/],
    [['--builder', 'ko'], /--repository is required/],
    [['--builder', 'ko', '--repository'], /--repository needs a value/],
    [['--builder', 'ko', '--repository', 'r', '--tag', 'a', '--tag', 'b'], /--tag given twice/],
    [['--builder', 'ko', '--repository', 'r', '--push'], /unknown argument "--push"/],
    [['--builder', 'buildah', '--repository', 'r', '--build-arg', 'NOEQUALS'], /not KEY=VALUE/],
  ])('%j is a usage error', (argv, error) => {
    expect(() => parseArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseArgs(argv as string[])).toThrow(error);
  });
});
