import * as path from 'path';
import { buildArgFlags, BuildRequest, ImageBuilder } from './builder';
import { CommandSpec } from './command';
import { parseDigest, PushedImage, readToolOutput } from './image-reference';

const DIGEST_FILE = 'buildah-digest';

/**
 * Builds the Dockerfile with buildah and pushes it: the daemonless builder for
 * machines without kaniko. Storage driver and isolation are left to buildah's
 * own configuration (`STORAGE_DRIVER`, `BUILDAH_ISOLATION`,
 * `CONTAINERS_STORAGE_CONF`), because they depend on the host, not the image.
 */
export const BUILDAH_BUILDER: ImageBuilder = {
  name: 'buildah',
  usesDockerfile: true,
  tools: () => ['buildah'],
  title: request => `buildah build + push docker://${request.repository}:${request.tag}`,
  commands: (request: BuildRequest): CommandSpec[] => {
    const image = `${request.repository}:${request.tag}`;
    // Applies to base-image pulls during the build as well as to the push.
    const tls = request.insecure ? ['--tls-verify=false'] : [];
    return [
      {
        file: 'buildah',
        args: ['build', '--file', request.dockerfile, '--tag', image, ...buildArgFlags('--build-arg', request.buildArgs), ...tls, request.contextDir],
      },
      {
        file: 'buildah',
        args: ['push', '--digestfile', path.join(request.scratchDir, DIGEST_FILE), ...tls, image, `docker://${image}`],
      },
    ];
  },
  result: (request: BuildRequest): PushedImage => ({
    repository: request.repository,
    tag: request.tag,
    digest: parseDigest(readToolOutput(path.join(request.scratchDir, DIGEST_FILE), 'buildah push'), 'buildah\'s --digestfile'),
  }),
};
