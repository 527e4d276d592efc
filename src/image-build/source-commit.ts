import { spawnSync } from 'child_process';

/** The git state of the build context. */
export interface SourceState {
  /**
   * `git rev-parse HEAD` of the repository holding the context.
   * @default - none: not a git checkout, git missing, or no commit yet
   */
  readonly commit?: string;
  /** Whether files under the context differ from that commit. */
  readonly dirty: boolean;
}

/**
 * The commit the context directory is checked out at. Never fails: an image
 * built outside git is still an image, it just records no `sourceCommit`.
 */
export function sourceState(contextDir: string, env: NodeJS.ProcessEnv): SourceState {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: contextDir, env, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] });
  const head = git('rev-parse', '--verify', '--quiet', 'HEAD');
  const commit = head.status === 0 ? head.stdout.trim() : '';
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return { dirty: false };
  const status = git('status', '--porcelain', '--', '.');
  return { commit, dirty: status.status === 0 && status.stdout.trim() !== '' };
}

/**
 * The tag pushed with the image: `sha-<12 hex>[-dirty]` when the commit is
 * known, so a registry listing shows where an image came from; `latest` otherwise.
 */
export function defaultTag(state: SourceState): string {
  if (!state.commit) return 'latest';
  return `sha-${state.commit.slice(0, 12)}${state.dirty ? '-dirty' : ''}`;
}
