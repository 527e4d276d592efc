import { IConstruct } from 'constructs';
import { ImageLock } from './image-lock';
import { digestProblem, repositoryProblem, tagProblem } from './reference';
import { ValidationError } from '../common/validation-error';

/** Options for {@link ContainerImage.fromLock}. */
export interface LockedImageOptions {
  /**
   * Repository to pull by tag when the lock has no entry for the image and
   * unpinned images are allowed (dev only).
   * @default - no fallback: the image must be in the lock
   */
  readonly fallbackRepository?: string;
  /**
   * Tag to pull when falling back to `fallbackRepository`.
   * @default 'latest'
   */
  readonly fallbackTag?: string;
}

/** How a construct may render an image reference. */
export interface ImageResolveOptions {
  /**
   * Allow a tag instead of a digest. Tags are mutable, so only dev should.
   */
  readonly allowUnpinned: boolean;
}

/**
 * A container image reference that renders as `repository@sha256:<digest>`.
 *
 * Nothing is checked when the image is created: a construct resolves it with
 * its own path, so a bad reference is reported where it is used.
 */
export class ContainerImage {
  /** An image pinned to a content digest. */
  public static fromDigest(repository: string, digest: string): ContainerImage {
    return new ContainerImage(`${repository}@${digest}`, () => ({ repository, digest }));
  }

  /** An image pulled by a mutable tag. Synth rejects it unless unpinned images are allowed. */
  public static fromTag(repository: string, tag: string): ContainerImage {
    return new ContainerImage(`${repository}:${tag}`, () => ({ repository, tag }));
  }

  /**
   * The image named `name` in an image lock, pinned by the digest the build recorded.
   */
  public static fromLock(lock: ImageLock, name: string, options: LockedImageOptions = {}): ContainerImage {
    return new ContainerImage(`"${name}" from ${lock.source}`, () => {
      const entry = lock.tryGet(name);
      if (entry) return { repository: entry.repository, digest: entry.digest };
      if (options.fallbackRepository === undefined) {
        throw new Error(`image "${name}" is not pinned in ${lock.source}: record its repository and digest in the lock ('cdk8s-gitops build-image' builds, pushes and records it)`);
      }
      return { repository: options.fallbackRepository, tag: options.fallbackTag ?? 'latest', unpinnedReason: `image "${name}" has no entry in ${lock.source}` };
    });
  }

  private constructor(
    /** How the image was specified, for messages. */
    public readonly description: string,
    private readonly parts: () => ImageParts,
  ) {}

  /**
   * The reference to put in a pod spec.
   * @throws ValidationError naming `scope` when the reference is malformed or not pinned where it must be
   */
  public resolve(scope: IConstruct, options: ImageResolveOptions): string {
    let parts: ImageParts;
    try {
      parts = this.parts();
    } catch (e) {
      return ValidationError.fail(scope, (e as Error).message);
    }
    const problem = repositoryProblem(parts.repository)
      ?? (parts.digest !== undefined ? digestProblem(parts.digest) : tagProblem(parts.tag ?? ''));
    if (problem) ValidationError.fail(scope, `image ${this.description}: ${problem}`);
    if (parts.digest !== undefined) return `${parts.repository}@${parts.digest}`;
    if (!options.allowUnpinned) {
      const why = parts.unpinnedReason ?? `image ${parts.repository}:${parts.tag} is referenced by tag`;
      ValidationError.fail(scope, `${why}, and this environment requires images pinned by digest. Record its digest in the image lock and use ContainerImage.fromLock() ('cdk8s-gitops build-image' builds, pushes and records it), or use ContainerImage.fromDigest()`);
    }
    return `${parts.repository}:${parts.tag}`;
  }
}

interface ImageParts {
  readonly repository: string;
  readonly digest?: string;
  readonly tag?: string;
  readonly unpinnedReason?: string;
}
