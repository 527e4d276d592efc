import { IConstruct } from 'constructs';
import { ValidationError } from '../common/validation-error';

/** The API server address of the cluster Argo CD itself runs in. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';

const REPO_URL = /^(https:\/\/[^\s/]+\/\S+|ssh:\/\/\S+|git@[^\s:]+:\S+)$/;

/** Checks that `url` is a git URL Argo CD can clone (https, ssh or scp-like). */
export function checkRepoUrl(scope: IConstruct, url: string): string {
  if (!REPO_URL.test(url)) {
    ValidationError.fail(scope, `repoUrl "${url}" is not a git URL: use https://host/org/repo.git, ssh://... or git@host:org/repo.git`);
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
