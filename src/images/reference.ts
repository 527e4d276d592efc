// Grammar from the distribution spec (github.com/distribution/reference), restricted to lower case.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Returns why `repository` is not a valid image repository, or undefined. */
export function repositoryProblem(repository: string): string | undefined {
  if (repository.length > 255 || !REPOSITORY.test(repository)) {
    return `"${repository}" is not a valid image repository (expected e.g. "ghcr.io/acme/todo", lower case, no tag or digest)`;
  }
  return undefined;
}

/** Returns why `digest` is not a sha256 content digest, or undefined. */
export function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) {
    return `"${digest}" is not a valid image digest (expected "sha256:" followed by 64 lower-case hex digits)`;
  }
  return undefined;
}

/** Returns why `tag` is not a valid image tag, or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (!TAG.test(tag)) {
    return `"${tag}" is not a valid image tag (letters, digits, '_', '.', '-', at most 128 characters)`;
  }
  return undefined;
}
