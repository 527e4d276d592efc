import * as fs from 'fs';
import { digestProblem, repositoryProblem, tagProblem } from '../images/reference';

/** An image the build pushed, pinned by digest. */
export interface PushedImage {
  /** Repository without tag or digest. */
  readonly repository: string;
  /** `sha256:<64 hex>`. */
  readonly digest: string;
  /**
   * Tag that was pushed along with the digest.
   * @default - none
   */
  readonly tag?: string;
}

/**
 * Parses the content of a digest file (`sha256:<hex>`, what buildah's
 * `--digestfile` and kaniko's `--digest-file` write).
 * @param source names the file in error messages
 * @throws Error when the content is empty or not exactly one digest
 */
export function parseDigest(text: string, source: string): string {
  const digest = singleLine(text, source);
  const problem = digestProblem(digest);
  if (problem) throw new Error(`${source} does not hold a digest: ${problem}`);
  return digest;
}

/**
 * Parses `repository[:tag]@sha256:<hex>`, what ko's `--image-refs` and
 * kaniko's `--image-name-with-digest-file` write.
 * @throws Error when the content is empty or not exactly one such reference
 */
export function parseImageReference(text: string, source: string): PushedImage {
  const ref = singleLine(text, source);
  const at = ref.lastIndexOf('@');
  if (at < 0) throw new Error(`${source} holds "${ref}", which has no @sha256:<digest>`);
  const digest = ref.slice(at + 1);
  const digestError = digestProblem(digest);
  if (digestError) throw new Error(`${source}: ${digestError}`);
  let repository = ref.slice(0, at);
  let tag: string | undefined;
  // A tag follows the last ':' only if that colon comes after the last '/':
  // the colon in "127.0.0.1:5000/acme/todo" is a registry port.
  const colon = repository.lastIndexOf(':');
  if (colon > repository.lastIndexOf('/')) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    const tagError = tagProblem(tag);
    if (tagError) throw new Error(`${source}: ${tagError}`);
  }
  const repositoryError = repositoryProblem(repository);
  if (repositoryError) throw new Error(`${source}: ${repositoryError}`);
  return { repository, digest, ...(tag !== undefined ? { tag } : {}) };
}

/** Reads a file a build tool should have written, with a clear error when it did not. */
export function readToolOutput(file: string, tool: string): string {
  try {
    return fs.readFileSync(file, 'utf-8');
  } catch (e) {
    throw new Error(`${tool} finished but did not write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function singleLine(text: string, source: string): string {
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '');
  if (lines.length === 0) throw new Error(`${source} is empty`);
  if (lines.length > 1) throw new Error(`${source} has ${lines.length} lines, expected one image: ${lines.map(l => JSON.stringify(l)).join(', ')}`);
  return lines[0];
}
