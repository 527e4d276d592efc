import * as path from 'path';
import { buildArgFlags, BuildRequest, ImageBuilder } from './builder';
import { CommandSpec } from './command';
import { parseDigest, parseImageReference, PushedImage, readToolOutput } from './image-reference';

/** Where the kaniko executor image keeps its binary. */
export const DEFAULT_KANIKO_EXECUTOR = '/kaniko/executor';

const DIGEST_FILE = 'kaniko-digest';
const NAME_FILE = 'kaniko-image-name-with-digest';

/** The executor to run: `KANIKO_EXECUTOR` from the environment, else {@link DEFAULT_KANIKO_EXECUTOR}. */
export function kanikoExecutor(env: NodeJS.ProcessEnv): string {
  return env.KANIKO_EXECUTOR || DEFAULT_KANIKO_EXECUTOR;
}

/**
 * Builds the Dockerfile with the kaniko executor, which builds into its own
 * root filesystem, so it runs only inside a container: in CI jobs using the
 * gcr.io/kaniko-project/executor:debug image, or, on a machine with runc,
 * through test/tools/images/kaniko-executor.sh as `KANIKO_EXECUTOR`.
 */
export const KANIKO_BUILDER: ImageBuilder = {
  name: 'kaniko',
  usesDockerfile: true,
  tools: env => [kanikoExecutor(env)],
  title: (request, env) => `kaniko ${kanikoExecutor(env)} --destination ${request.repository}:${request.tag}`,
  commands: (request: BuildRequest, env: NodeJS.ProcessEnv): CommandSpec[] => [{
    file: kanikoExecutor(env),
    args: [
      '--context', `dir://${request.contextDir}`,
      '--dockerfile', request.dockerfile,
      '--destination', `${request.repository}:${request.tag}`,
      '--digest-file', path.join(request.scratchDir, DIGEST_FILE),
      '--image-name-with-digest-file', path.join(request.scratchDir, NAME_FILE),
      // Timestamps stripped, so a rebuild of the same source keeps its digest.
      '--reproducible',
      ...buildArgFlags('--build-arg', request.buildArgs),
      ...(request.insecure ? ['--insecure', '--skip-tls-verify', '--insecure-pull', '--skip-tls-verify-pull'] : []),
    ],
  }],
  result: (request: BuildRequest): PushedImage => {
    const digest = parseDigest(readToolOutput(path.join(request.scratchDir, DIGEST_FILE), 'kaniko'), 'kaniko\'s --digest-file');
    const named = parseImageReference(readToolOutput(path.join(request.scratchDir, NAME_FILE), 'kaniko'), 'kaniko\'s --image-name-with-digest-file');
    // Two files written by one push must agree; if not, neither can be trusted.
    if (named.digest !== digest) {
      throw new Error(`kaniko's digest files disagree: --digest-file has ${digest}, --image-name-with-digest-file has ${named.digest}`);
    }
    return { repository: named.repository, digest, tag: named.tag ?? request.tag };
  },
};
