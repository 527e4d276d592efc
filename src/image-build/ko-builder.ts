import * as path from 'path';
import { BuildRequest, ImageBuilder } from './builder';
import { CommandSpec } from './command';
import { parseImageReference, PushedImage, readToolOutput } from './image-reference';

const REFS_FILE = 'ko-image-refs';

/**
 * Builds the Go module with `ko build`: no Dockerfile and no daemon, and the
 * same source gives the same digest. The base image comes from `.ko.yaml`
 * unless `KO_DEFAULTBASEIMAGE` is set in the environment (passed through).
 */
export const KO_BUILDER: ImageBuilder = {
  name: 'ko',
  usesDockerfile: false,
  // ko compiles with the go toolchain on PATH, so a missing go is a missing tool too.
  tools: () => ['ko', 'go'],
  title: (request, env) => `ko build (KO_DOCKER_REPO=${request.repository}${env.KO_DEFAULTBASEIMAGE ? `, KO_DEFAULTBASEIMAGE=${env.KO_DEFAULTBASEIMAGE}` : ''})`,
  commands: (request: BuildRequest): CommandSpec[] => [{
    file: 'ko',
    args: [
      'build', '--bare',
      '--image-refs', path.join(request.scratchDir, REFS_FILE),
      '--tags', request.tag,
      ...(request.insecure ? ['--insecure-registry'] : []),
      '.',
    ],
    cwd: request.contextDir,
    // --bare pushes to exactly KO_DOCKER_REPO, without ko's path-derived suffix.
    env: { KO_DOCKER_REPO: request.repository },
  }],
  result: (request: BuildRequest): PushedImage => {
    const file = path.join(request.scratchDir, REFS_FILE);
    const pushed = parseImageReference(readToolOutput(file, 'ko'), 'ko\'s --image-refs file');
    // ko writes repository@digest without the tag it pushed.
    return { ...pushed, tag: pushed.tag ?? request.tag };
  },
};
