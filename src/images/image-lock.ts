import * as fs from 'fs';
import * as path from 'path';
import { digestProblem, repositoryProblem, tagProblem } from './reference';

/** The lock file the image build writes at the repository root. */
export const DEFAULT_IMAGE_LOCK_FILE = 'images.lock.json';

const IMAGE_NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;

/**
 * Whether `name` can name an image in a lock: lower-case letters, digits, '.', '_' and '-'.
 * @internal
 */
export function isImageName(name: string): boolean {
  return IMAGE_NAME.test(name);
}

/** Version of the lock file format this library reads and writes. */
export const IMAGE_LOCK_VERSION = 1;

/** One built or mirrored image, pinned by digest. */
export interface ImageLockEntry {
  /** Repository without tag or digest, e.g. `ghcr.io/acme/todo`. */
  readonly repository: string;
  /** Content digest, `sha256:<64 hex>`. */
  readonly digest: string;
  /**
   * Human-readable tag the digest was taken from; never used to pull.
   * @default - none
   */
  readonly tag?: string;
  /** What produced the digest: `ko`, `kaniko`, `buildah` or `upstream` for a mirrored image. */
  readonly builder: string;
  /**
   * Git commit of the source the image was built from.
   * @default - none (upstream images)
   */
  readonly sourceCommit?: string;
}

/** The parsed content of an image lock file. */
export interface ImageLockDocument {
  readonly version: number;
  readonly images: Record<string, ImageLockEntry>;
}

/**
 * The image lock: which digest each named image is pinned to.
 *
 * CI's image build writes it; synth reads it, so every committed manifest pins
 * the exact image that was built.
 */
export class ImageLock {
  /**
   * A lock read from a JSON file. The file is read on first use, so a corrupt
   * file is reported by the construct that needed an image from it.
   */
  public static fromFile(file: string): ImageLock {
    return new ImageLock(file, () => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf-8');
      } catch (e) {
        throw new Error(`cannot read image lock ${file}: ${(e as Error).message}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new Error(`image lock ${file} is not valid JSON (${(e as Error).message}); restore it from git, or rebuild its entries with 'cdk8s-gitops build-image'`);
      }
      return parseLock(json, file);
    });
  }

  /** A lock from an in-memory document, validated like a file. */
  public static fromDocument(document: ImageLockDocument, source = 'inline image lock'): ImageLock {
    const parsed = parseLock(document, source);
    return new ImageLock(source, () => parsed);
  }

  /**
   * Serializes a lock document deterministically: sorted names, fixed key order, trailing newline.
   * @internal
   */
  public static serialize(document: ImageLockDocument): string {
    const images: Record<string, ImageLockEntry> = {};
    for (const name of Object.keys(document.images).sort()) {
      const e = document.images[name];
      images[name] = {
        repository: e.repository,
        ...(e.tag !== undefined ? { tag: e.tag } : {}),
        digest: e.digest,
        builder: e.builder,
        ...(e.sourceCommit !== undefined ? { sourceCommit: e.sourceCommit } : {}),
      };
    }
    return JSON.stringify({ version: document.version, images }, undefined, 2) + '\n';
  }

  /**
   * Writes a lock file atomically: a crash or a bad document leaves the old
   * file in place.
   * @internal
   */
  public static write(file: string, document: ImageLockDocument): void {
    const text = ImageLock.serialize(parseLock(document, file));
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }

  private document?: ImageLockDocument;

  private constructor(
    /** Where the lock came from, for messages. */
    public readonly source: string,
    private readonly load: () => ImageLockDocument,
  ) {}

  /** The whole validated document. */
  public get contents(): ImageLockDocument {
    this.document ??= this.load();
    return this.document;
  }

  /** The entry for `name`, or undefined when the lock has none. */
  public tryGet(name: string): ImageLockEntry | undefined {
    return Object.prototype.hasOwnProperty.call(this.contents.images, name) ? this.contents.images[name] : undefined;
  }
}

function parseLock(json: unknown, source: string): ImageLockDocument {
  const fail = (what: string): never => {
    throw new Error(`image lock ${source}: ${what}`);
  };
  if (!isObject(json)) fail('top level must be a JSON object');
  const doc = json as Record<string, unknown>;
  if (doc.version !== IMAGE_LOCK_VERSION) fail(`"version" is ${JSON.stringify(doc.version)}, this library reads version ${IMAGE_LOCK_VERSION}`);
  if (!isObject(doc.images)) fail('"images" must be an object of name -> entry');
  const images: Record<string, ImageLockEntry> = {};
  for (const [name, raw] of Object.entries(doc.images as Record<string, unknown>)) {
    const at = `images.${name}`;
    if (!isObject(raw)) fail(`${at} must be an object`);
    const e = raw as Record<string, unknown>;
    for (const key of ['repository', 'digest', 'builder']) {
      if (typeof e[key] !== 'string' || e[key] === '') fail(`${at}.${key} must be a non-empty string, got ${JSON.stringify(e[key])}`);
    }
    const problem = repositoryProblem(e.repository as string) ?? digestProblem(e.digest as string)
      ?? (e.tag !== undefined ? (typeof e.tag === 'string' ? tagProblem(e.tag) : 'tag must be a string') : undefined);
    if (problem) fail(`${at}: ${problem}`);
    if (e.sourceCommit !== undefined && (typeof e.sourceCommit !== 'string' || !/^[0-9a-f]{7,64}$/.test(e.sourceCommit))) {
      fail(`${at}.sourceCommit ${JSON.stringify(e.sourceCommit)} is not a git commit id`);
    }
    images[name] = e as unknown as ImageLockEntry;
  }
  return { version: IMAGE_LOCK_VERSION, images };
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
