import * as fs from 'fs';
import * as path from 'path';
import { BuildRequest, ImageBuilder } from './builder';
import { CommandSpec } from './command';
import { dockerCli, dockerInstallHint } from './docker-builder';
import { parseDigest, PushedImage, readToolOutput } from './image-reference';
import { splitRegistry } from './registry';

/** The Platform API the creator is driven with (lifecycle v0.20 supports 0.7 to 0.14). */
export const CNB_PLATFORM_API = '0.14';

/** Where the builder image keeps the lifecycle's creator. */
export const CREATOR_PATH = '/cnb/lifecycle/creator';

/** Tag of the build cache the lifecycle keeps in the image's own repository. */
export const BUILDPACKS_CACHE_TAG = 'buildpacks-cache';

const PLATFORM_DIR = 'cnb-platform';
const OUT_DIR = 'cnb-out';
const REPORT_FILE = 'report.toml';

/** The builder image: `CNB_BUILDER_IMAGE` from the environment. */
export function buildpacksBuilderImage(env: NodeJS.ProcessEnv): string | undefined {
  return env.CNB_BUILDER_IMAGE || undefined;
}

/**
 * Reads the digest of the exported image from the lifecycle's report.toml
 * (`[image]` table, `digest = "sha256:..."`), the only place it tells.
 * @throws Error when the report has no image digest
 */
export function parseCreatorReport(text: string): string {
  const image = /^\[image\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1];
  const digest = image === undefined ? undefined : /^\s*digest\s*=\s*"([^"]*)"/m.exec(image)?.[1];
  if (digest === undefined) throw new Error(`the lifecycle's report.toml has no [image] digest; it reads: ${JSON.stringify(text.slice(0, 300))}`);
  return parseDigest(digest, 'the lifecycle\'s report.toml');
}

/**
 * The creator's arguments: every phase (detect, analyze, restore, build,
 * export) in one process, publishing to the registry with the build cache
 * beside the image, as kpack and Tekton's buildpacks task run it.
 */
export function creatorArgs(request: BuildRequest, appDir: string, platformDir: string, reportFile: string): string[] {
  return [
    '-app', appDir,
    '-layers', '/layers',
    '-platform', platformDir,
    '-report', reportFile,
    '-cache-image', `${request.repository}:${BUILDPACKS_CACHE_TAG}`,
    ...(request.insecure ? ['-insecure-registry', splitRegistry(request.repository).registry] : []),
    '-log-level', 'info',
    `${request.repository}:${request.tag}`,
  ];
}

/**
 * Builds with Cloud Native Buildpacks, without a Dockerfile: the lifecycle's
 * creator, in a container of the builder image `CNB_BUILDER_IMAGE` (made by
 * buildpacks/build-builder.sh), detects which buildpack group accepts the
 * source, builds it and exports the image onto the builder's run image. The
 * container runs on a Docker daemon (`DOCKER_HOST`) as the builder image's
 * non-root user, on the host's network so that a registry on 127.0.0.1 is
 * reachable, with the source mounted read-only; `--build-arg K=V` becomes
 * the buildpacks' platform environment (`/platform/env/K`), like
 * `pack build --env`. Registry credentials: `CNB_REGISTRY_AUTH` (passed on).
 */
export const BUILDPACKS_BUILDER: ImageBuilder = {
  name: 'buildpacks',
  usesDockerfile: false,
  acceptsBuildArgs: true,
  tools: env => [dockerCli(env)],
  installHint: dockerInstallHint,
  checkSettings: env => {
    if (!buildpacksBuilderImage(env)) {
      throw new Error('CNB_BUILDER_IMAGE is not set: set it to a buildpacks builder image by digest '
        + '(a builder with the CNB lifecycle v0.20 in /cnb/lifecycle, its buildpacks and order.toml)');
    }
  },
  title: (request, env) => `buildpacks: lifecycle creator in ${buildpacksBuilderImage(env)} -> ${request.repository}:${request.tag}`,
  prepare: (request: BuildRequest) => {
    const envDir = path.join(request.scratchDir, PLATFORM_DIR, 'env');
    fs.mkdirSync(envDir, { recursive: true });
    for (const [name, value] of Object.entries(request.buildArgs)) fs.writeFileSync(path.join(envDir, name), value);
    // Written by the builder image's non-root user.
    fs.mkdirSync(path.join(request.scratchDir, OUT_DIR), { mode: 0o777 });
    fs.chmodSync(path.join(request.scratchDir, OUT_DIR), 0o777);
  },
  commands: (request: BuildRequest, env: NodeJS.ProcessEnv): CommandSpec[] => [{
    file: dockerCli(env),
    args: [
      'run', '--rm', '--network', 'host',
      '--volume', `${request.contextDir}:/workspace:ro`,
      '--volume', `${path.join(request.scratchDir, PLATFORM_DIR)}:/platform:ro`,
      '--volume', `${path.join(request.scratchDir, OUT_DIR)}:/out`,
      '--env', `CNB_PLATFORM_API=${CNB_PLATFORM_API}`,
      // The value stays in the environment: `--env NAME` copies it without putting it on the command line.
      ...(env.CNB_REGISTRY_AUTH ? ['--env', 'CNB_REGISTRY_AUTH'] : []),
      buildpacksBuilderImage(env) ?? '',
      CREATOR_PATH,
      ...creatorArgs(request, '/workspace', '/platform', `/out/${REPORT_FILE}`),
    ],
  }],
  result: (request: BuildRequest): PushedImage => ({
    repository: request.repository,
    tag: request.tag,
    digest: parseCreatorReport(readToolOutput(path.join(request.scratchDir, OUT_DIR, REPORT_FILE), 'the lifecycle creator')),
  }),
};
