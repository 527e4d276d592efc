import * as fs from 'fs';

/** A staged file or directory and the path it replaces. */
export interface StagedPath {
  /** The freshly written file or directory, on the same filesystem as `target`. */
  readonly staged: string;
  /** The path to replace. */
  readonly target: string;
}

/**
 * Moves every staged path over its target, or none of them.
 *
 * Each rename is atomic, but several cannot be done together, so the old
 * targets are kept aside until all staged paths are in place, and moved back
 * if any rename fails: a failed synth or build never leaves a mix of old and
 * new outputs (manifests that pin a digest the lock does not record).
 */
export function replacePaths(paths: StagedPath[]): void {
  const aside = paths.map(p => ({ ...p, old: `${p.target}.old-${process.pid}`, had: fs.existsSync(p.target), movedAside: false, done: false }));
  try {
    for (const p of aside) {
      if (p.had) {
        fs.renameSync(p.target, p.old);
        p.movedAside = true;
      }
      fs.renameSync(p.staged, p.target);
      p.done = true;
    }
  } catch (e) {
    // Only what this call moved aside goes back: an `old` path that already existed (left by an
    // earlier run with the same pid) made the move aside fail, and is not the old target.
    for (const p of [...aside].reverse()) {
      if (p.done) fs.renameSync(p.target, p.staged);
      if (p.movedAside) fs.renameSync(p.old, p.target);
    }
    throw e;
  }
  for (const p of aside) if (p.movedAside) fs.rmSync(p.old, { recursive: true, force: true });
}
