import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

/** One object of a synthesized tree and where it sits. */
export interface ManifestObject {
  /** Top directory of the tree it is in: an environment, `apps` or `bootstrap`. */
  readonly directory: string;
  /** File inside the tree, relative to its root. */
  readonly file: string;
  /** The object. */
  readonly object: any;
}

/** The objects of a GitOps tree (such as `dist/`), read from a directory or from git. */
export class ManifestTree {
  /** Every object of every `*.yaml` file below `dir`. A missing directory is an empty tree. */
  public static fromDirectory(dir: string): ManifestTree {
    const objects: ManifestObject[] = [];
    for (const file of listYamlFiles(dir)) {
      const relative = path.relative(dir, file);
      // YAML 1.1, as Kubernetes reads manifests.
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8'), { version: '1.1' })) {
        if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML: ${doc.errors[0].message}`);
        const object = doc.toJS();
        if (object !== null && typeof object === 'object') objects.push({ directory: relative.split(path.sep)[0], file: relative, object });
      }
    }
    return new ManifestTree(objects);
  }

  /**
   * The tree committed at `ref` under `treePath` (e.g. `dist`) of the git
   * repository at `repoDir`; empty when `ref` has no such directory.
   * @throws Error naming `ref` when git does not know it
   */
  public static fromGit(repoDir: string, ref: string, treePath: string): ManifestTree {
    const git = (...args: string[]) => spawnSync('git', args, { cwd: repoDir, encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
    const commit = git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    if (commit.status !== 0) {
      throw new Error(`git ref "${ref}" is not a commit in ${repoDir}: name a branch, tag or commit (git log --oneline shows them)`);
    }
    if (git('cat-file', '-e', `${ref}:${treePath}`).status !== 0) return new ManifestTree([]);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-tree-'));
    try {
      const archive = git('archive', '--format=tar', ref, '--', treePath);
      if (archive.status !== 0) throw new Error(`git archive ${ref} -- ${treePath} failed: ${archive.stderr.toString().trim()}`);
      const untar = spawnSync('tar', ['-x', '-C', scratch], { input: archive.stdout });
      if (untar.status !== 0) throw new Error(`cannot unpack ${treePath} at ${ref}: ${untar.stderr.toString().trim()}`);
      return ManifestTree.fromDirectory(path.join(scratch, treePath));
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  constructor(
    /** The objects, in file order. */
    public readonly objects: readonly ManifestObject[],
  ) {}

  /** Directories (environments, `apps`, `bootstrap`) holding objects, sorted. */
  public get directories(): string[] {
    return [...new Set(this.objects.map(o => o.directory))].sort();
  }
}

function listYamlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap(e => (e.isDirectory() ? listYamlFiles(path.join(dir, e.name)) : e.name.endsWith('.yaml') ? [path.join(dir, e.name)] : []))
    .sort();
}
