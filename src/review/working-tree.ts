import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findDangers } from './dangers';
import { readLiveTrees } from './live-tree';
import { ManifestTree } from './manifest-tree';
import { diffTrees } from './object-diff';
import { Review } from './render';
import { GitOpsRepository } from '../gitops/gitops-repository';
import { DEFAULT_IMAGE_LOCK_FILE, ImageLock } from '../images/image-lock';

/** Options of {@link reviewWorkingTree}. */
export interface WorkingTreeOptions {
  /** Git ref to compare with. */
  readonly base: string;
  /**
   * Compare with the cluster of the user's kubeconfig instead: its live objects against what a
   * server-side apply of the working tree would make of them (a dry run).
   * @default false
   */
  readonly cluster?: boolean;
  /** A directory inside the git repository; the image lock is read relative to it. */
  readonly cwd: string;
  /** Environment: `IMAGES_LOCK_FILE` names another lock. */
  readonly env: NodeJS.ProcessEnv;
  /** Receives `[step i/3]` progress lines. */
  readonly log: (line: string) => void;
  /** Prefix of the progress lines, e.g. `diff`. */
  readonly step: string;
}

/** The two trees and what changed between them. */
export interface WorkingTreeReview {
  /** The changes and the dangerous ones. */
  readonly review: Review;
  /** The committed tree at the base. */
  readonly base: ManifestTree;
  /** The working tree, freshly synthesized. */
  readonly head: ManifestTree;
}

/**
 * Synthesizes `repository`'s working tree into a scratch directory (the
 * committed tree is not touched) and compares it with the tree committed at
 * `options.base`.
 * @throws Error with a clear message for a bad ref or a failed synth
 */
export function reviewWorkingTree(repository: GitOpsRepository<any>, options: WorkingTreeOptions): WorkingTreeReview {
  const step = (i: number, what: string) => options.log(`[${options.step} ${i}/3] ${what}`);
  let base: ManifestTree | undefined;
  if (!options.cluster) {
    const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: options.cwd, encoding: 'utf-8' });
    if (top.status !== 0) throw new Error(`${options.cwd} is not inside a git repository: ${top.stderr.trim()}`);
    step(1, `read ${repository.manifestsPath}/ at ${options.base}`);
    base = ManifestTree.fromGit(top.stdout.trim(), options.base, repository.manifestsPath);
  }

  step(options.cluster ? 1 : 2, `synthesize the working tree into a scratch directory (${repository.manifestsPath}/ is not touched)`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-review-'));
  let head: ManifestTree;
  let label = options.base;
  try {
    const tree = synthesizeWorkingTree(repository, scratch, options);
    if (options.cluster) {
      label = `the cluster${currentContext(options.env)}`;
      step(2, `ask ${label} for the live objects and a server-side dry run of the tree`);
      const trees = readLiveTrees(tree, options.env);
      base = trees.live;
      head = trees.predicted;
    } else {
      head = ManifestTree.fromDirectory(tree);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  step(3, `compare ${head.objects.length} objects with ${base!.objects.length}`);
  const changes = diffTrees(base!, head);
  return { base: base!, head, review: { base: label, changes, dangers: findDangers(changes, base!, head) } };
}

/**
 * Synthesizes `repository`'s working tree into `scratch`/tree (its Helm chart
 * beside it), with the image lock of `IMAGES_LOCK_FILE` or the default one
 * relative to `cwd`; returns the tree's directory.
 * @throws Error saying the synth failed, with its message
 */
export function synthesizeWorkingTree(repository: GitOpsRepository<any>, scratch: string, options: Pick<WorkingTreeOptions, 'cwd' | 'env'>): string {
  const tree = path.join(scratch, 'tree');
  try {
    repository.synth({
      outdir: tree,
      helmDir: path.join(scratch, 'helm'),
      lock: ImageLock.fromFile(path.resolve(options.cwd, options.env.IMAGES_LOCK_FILE ?? DEFAULT_IMAGE_LOCK_FILE)),
    });
  } catch (e) {
    throw new Error(`synth failed, so there is nothing to compare:\n  ${(e as Error).message}`);
  }
  return tree;
}

/** ` (context NAME)` of the kubeconfig, or nothing when kubectl cannot tell. */
export function currentContext(env: NodeJS.ProcessEnv): string {
  const r = spawnSync(env.KUBECTL ?? 'kubectl', ['config', 'current-context'], { env, encoding: 'utf-8' });
  return r.status === 0 && r.stdout.trim() ? ` (context ${r.stdout.trim()})` : '';
}
