import { BUILDAH_BUILDER } from './buildah-builder';
import { BuilderName, ImageBuilder } from './builder';
import { BUILDPACKS_BUILDER } from './buildpacks-builder';
import { DOCKER_BUILDER } from './docker-builder';
import { KANIKO_BUILDER } from './kaniko-builder';
import { KO_BUILDER } from './ko-builder';

/** The builder implementing `name`. */
export function builderFor(name: BuilderName): ImageBuilder {
  switch (name) {
    case 'ko': return KO_BUILDER;
    case 'kaniko': return KANIKO_BUILDER;
    case 'buildah': return BUILDAH_BUILDER;
    case 'docker': return DOCKER_BUILDER;
    case 'buildpacks': return BUILDPACKS_BUILDER;
  }
}
