import { BUILDAH_BUILDER } from './buildah-builder';
import { BuilderName, ImageBuilder } from './builder';
import { KANIKO_BUILDER } from './kaniko-builder';
import { KO_BUILDER } from './ko-builder';

/** The builder implementing `name`. */
export function builderFor(name: BuilderName): ImageBuilder {
  switch (name) {
    case 'ko': return KO_BUILDER;
    case 'kaniko': return KANIKO_BUILDER;
    case 'buildah': return BUILDAH_BUILDER;
  }
}
