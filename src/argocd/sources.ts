import { IConstruct } from 'constructs';
import { ValidationError } from '../common/validation-error';

/** The API server address of the cluster Argo CD itself runs in. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';

/**
 * The git URL forms Argo CD's repo-server clones from:
 * - https://host[:port]/path (a host, then a non-empty path);
 * - ssh://[user@]host[:port]/path, and scp-like git@host:path;
 * - git://host[:port]/path, the unauthenticated git protocol (`git daemon`);
 * - file:///absolute/path, a repository on the repo-server's own filesystem
 *   (local tests; no host part, no '..' segments).
 */
const REPO_URL_FORMS: ReadonlyArray<RegExp> = [
  /^https:\/\/[^\s/]+\/\S+$/,
  /^ssh:\/\/\S+$/,
  /^git@[^\s:]+:\S+$/,
  /^git:\/\/[A-Za-z0-9]([-.A-Za-z0-9]*[A-Za-z0-9])?(:[0-9]{1,5})?\/[^\s/]\S*$/,
  /^file:\/\/\/[^\s/]\S*$/,
];

/** Checks that `url` is a git URL Argo CD can clone (https, ssh, scp-like, git:// or file:///). */
export function checkRepoUrl(scope: IConstruct, url: string): string {
  const usage = 'use https://host/org/repo.git, ssh://..., git@host:org/repo.git, git://host[:port]/repo.git or file:///absolute/path';
  if (!REPO_URL_FORMS.some(form => form.test(url))) {
    ValidationError.fail(scope, `repoUrl "${url}" is not a git URL: ${usage}`);
  }
  if (url.startsWith('file://') && url.split('/').includes('..')) {
    ValidationError.fail(scope, `repoUrl "${url}" has a '..' segment: a file:// URL must name the repository by its absolute path`);
  }
  return url;
}

/** Checks that `p` is a relative path inside the repository. */
export function checkRepoPath(scope: IConstruct, p: string): string {
  if (p === '' || p.startsWith('/') || p.split('/').includes('..')) {
    ValidationError.fail(scope, `path "${p}" must be a non-empty path relative to the repository root, without '..'`);
  }
  return p;
}
