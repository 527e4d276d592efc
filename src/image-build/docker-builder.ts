import * as path from 'path';
import { buildArgFlags, BuildRequest, ImageBuilder } from './builder';
import { CommandSpec } from './command';
import { parseDigest, PushedImage, readToolOutput } from './image-reference';

const PUSH_OUTPUT_FILE = 'docker-push-output';

/** The docker client to run: `DOCKER_CLI` from the environment, else `docker` on PATH. */
export function dockerCli(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CLI || 'docker';
}

/** What to do when the docker client is missing; shared by every builder that runs it. */
export function dockerInstallHint(tool: string): string {
  return `docker client ${tool} not found: install Docker (Debian: apt-get install docker.io), `
    + 'or set DOCKER_CLI to the client\'s path; DOCKER_HOST selects the daemon (default unix:///var/run/docker.sock)';
}

/**
 * Parses what `docker push` prints last for the pushed tag,
 * `<tag>: digest: sha256:<hex> size: <bytes>`: the digest of the manifest the
 * registry stored, which `docker push` reports nowhere else.
 * @throws Error when the output has no such line for `tag`
 */
export function parseDockerPushDigest(output: string, tag: string): string {
  const lines = output.split(/\r?\n/).map(l => l.trim());
  const line = lines.find(l => l.startsWith(`${tag}: digest: `));
  if (!line) {
    throw new Error(`docker push printed no "${tag}: digest: sha256:... size: N" line; its output ended with: ${lines.filter(l => l !== '').slice(-3).join(' | ') || '(nothing)'}`);
  }
  return parseDigest(line.split(' ')[2], 'docker push\'s digest line');
}

/**
 * Builds the Dockerfile with a Docker daemon's BuildKit (`docker build`) and
 * pushes with `docker push`: what a developer with Docker runs anyway. The
 * daemon is `DOCKER_HOST`'s (or the default socket); it pulls the base images
 * and pushes, so its own registry settings apply: registries on 127.0.0.0/8
 * are plain HTTP by default, other insecure registries need the daemon's
 * `insecure-registries`.
 */
export const DOCKER_BUILDER: ImageBuilder = {
  name: 'docker',
  usesDockerfile: true,
  tools: env => [dockerCli(env)],
  installHint: dockerInstallHint,
  title: (request, env) => `docker build (BuildKit) + docker push ${request.repository}:${request.tag} (daemon ${env.DOCKER_HOST || 'default'})`,
  commands: (request: BuildRequest, env: NodeJS.ProcessEnv): CommandSpec[] => {
    const image = `${request.repository}:${request.tag}`;
    return [
      {
        file: dockerCli(env),
        args: [
          'build', '--file', request.dockerfile, '--tag', image,
          ...buildArgFlags('--build-arg', request.buildArgs),
          request.contextDir,
        ],
        env: { DOCKER_BUILDKIT: '1' },
      },
      { file: dockerCli(env), args: ['push', image], stdoutFile: path.join(request.scratchDir, PUSH_OUTPUT_FILE) },
    ];
  },
  result: (request: BuildRequest): PushedImage => ({
    repository: request.repository,
    tag: request.tag,
    digest: parseDockerPushDigest(readToolOutput(path.join(request.scratchDir, PUSH_OUTPUT_FILE), 'docker push'), request.tag),
  }),
};
