import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findDangers } from './dangers';
import { ManifestTree } from './manifest-tree';
import { diffTrees } from './object-diff';
import { renderReview, Review, REVIEW_FORMATS, ReviewFormat, reviewExitCode } from './render';
import { GitOpsRepository } from '../gitops/gitops-repository';
import { DEFAULT_IMAGE_LOCK_FILE, ImageLock } from '../images/image-lock';

/** Exit status of `npm run diff` when it could not produce a diff (bad ref, failed synth, bad usage). */
export const DIFF_ERROR_EXIT = 3;

/** Usage of `npm run diff`. */
export const DIFF_USAGE = `usage: npm run diff -- [--base REF] [--format ${REVIEW_FORMATS.join('|')}] [--no-color]

Synthesizes the working tree into a temporary directory (dist/ is not touched) and compares it,
object by object, with the committed tree at REF (default HEAD). Exit status: 0 no change,
1 changes, 2 dangerous changes, ${DIFF_ERROR_EXIT} no diff (bad ref, failed synth, bad usage).`;

/** Where `diffCommand` reads and writes; the defaults are the process's. */
export interface DiffCommandIo {
  /** Receives the rendered review. */
  readonly stdout: (text: string) => void;
  /** Receives progress and errors. */
  readonly stderr: (text: string) => void;
  /** Colour terminal output. */
  readonly color: boolean;
  /** Directory inside the git repository. */
  readonly cwd: string;
  /** Environment (IMAGES_LOCK_FILE). */
  readonly env: NodeJS.ProcessEnv;
}

const PROCESS_IO: DiffCommandIo = {
  stdout: text => process.stdout.write(text),
  stderr: text => process.stderr.write(text),
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  cwd: process.cwd(),
  env: process.env,
};

interface DiffArgs { readonly base: string; readonly format: ReviewFormat; readonly color?: boolean }

function parseArgs(argv: string[]): DiffArgs | string {
  let base = 'HEAD';
  let format: ReviewFormat = 'terminal';
  let color: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === '--base') {base = value();} else if (arg === '--format') {
        const f = value();
        if (!(REVIEW_FORMATS as readonly string[]).includes(f)) return `--format "${f}" is not one of ${REVIEW_FORMATS.join(', ')}`;
        format = f as ReviewFormat;
      } else if (arg === '--no-color') {color = false;} else if (arg === '--color') {color = true;} else {return `unknown argument "${arg}"`;}
    } catch (e) {
      return (e as Error).message;
    }
  }
  return { base, format, color };
}

/**
 * Compares `repository`'s working tree with its committed tree at a git ref
 * and reports the changes and the dangerous ones.
 * @returns the exit status: 0 no change, 1 changes, 2 dangerous changes, 3 no diff
 */
export function diffCommand(repository: GitOpsRepository<any>, argv: string[], io: DiffCommandIo = PROCESS_IO): number {
  if (argv.includes('--help')) {
    io.stdout(`${DIFF_USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.stderr(`error: ${args}\n\n${DIFF_USAGE}\n`);
    return DIFF_ERROR_EXIT;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-diff-'));
  try {
    const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: io.cwd, encoding: 'utf-8' });
    if (top.status !== 0) throw new Error(`${io.cwd} is not inside a git repository: ${top.stderr.trim()}`);
    const repoDir = top.stdout.trim();

    io.stderr(`[diff 1/3] read ${repository.manifestsPath}/ at ${args.base}\n`);
    const base = ManifestTree.fromGit(repoDir, args.base, repository.manifestsPath);

    io.stderr(`[diff 2/3] synthesize the working tree into a scratch directory (${repository.manifestsPath}/ is not touched)\n`);
    const head = path.join(scratch, 'head');
    try {
      repository.synth({
        outdir: head,
        helmDir: path.join(scratch, 'helm'),
        lock: ImageLock.fromFile(path.resolve(io.cwd, io.env.IMAGES_LOCK_FILE ?? DEFAULT_IMAGE_LOCK_FILE)),
      });
    } catch (e) {
      throw new Error(`synth failed, so there is nothing to compare:\n  ${(e as Error).message}`);
    }
    const working = ManifestTree.fromDirectory(head);

    io.stderr(`[diff 3/3] compare ${working.objects.length} objects with ${base.objects.length}\n`);
    const changes = diffTrees(base, working);
    const review: Review = { base: args.base, changes, dangers: findDangers(changes, base, working) };
    io.stdout(renderReview(review, args.format, args.format === 'terminal' && (args.color ?? io.color)));
    return reviewExitCode(review);
  } catch (e) {
    io.stderr(`diff failed: ${(e as Error).message}\n`);
    return DIFF_ERROR_EXIT;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
