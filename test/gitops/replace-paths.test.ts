import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { replacePaths, StagedPath } from '../../src/gitops/replace-paths';
import { snapshotTree } from '../support/synth';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replace-paths-'));
  for (const [tree, content] of [['dist', 'old'], ['staged', 'new']]) {
    fs.mkdirSync(path.join(dir, tree, 'prod'), { recursive: true });
    fs.writeFileSync(path.join(dir, tree, 'prod', 'a.yaml'), content);
  }
  fs.writeFileSync(path.join(dir, 'lock.json'), 'old lock');
  fs.writeFileSync(path.join(dir, 'lock.tmp'), 'new lock');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const paths = (): StagedPath[] => [
  { staged: path.join(dir, 'staged'), target: path.join(dir, 'dist') },
  { staged: path.join(dir, 'lock.tmp'), target: path.join(dir, 'lock.json') },
];

test('replaces a directory and a file together and leaves nothing behind', () => {
  replacePaths(paths());
  expect(fs.readFileSync(path.join(dir, 'dist', 'prod', 'a.yaml'), 'utf-8')).toBe('new');
  expect(fs.readFileSync(path.join(dir, 'lock.json'), 'utf-8')).toBe('new lock');
  expect(fs.readdirSync(dir).sort()).toEqual(['dist', 'lock.json']);
});

test('creates a target that did not exist', () => {
  fs.rmSync(path.join(dir, 'dist'), { recursive: true });
  replacePaths(paths());
  expect(fs.readFileSync(path.join(dir, 'dist', 'prod', 'a.yaml'), 'utf-8')).toBe('new');
});

test('puts every old target back when a later rename fails', () => {
  fs.rmSync(path.join(dir, 'lock.tmp'));
  const before = snapshotTree(dir);
  expect(() => replacePaths(paths())).toThrow(/ENOENT/);
  expect(snapshotTree(dir)).toEqual(before);
});

test('a path in the way of setting a target aside fails the install and leaves every target as it was', () => {
  // The lock is installed last: dist/ is already in place when setting the lock aside fails, and the
  // directory in the way (a leftover of an earlier run) is neither the old lock nor moved over it.
  const inTheWay = path.join(dir, `lock.json.old-${process.pid}`);
  fs.mkdirSync(path.join(inTheWay, 'leftover'), { recursive: true });
  const before = snapshotTree(dir);
  expect(() => replacePaths(paths())).toThrow(/EISDIR|ENOTEMPTY/);
  expect(snapshotTree(dir)).toEqual(before);
  expect(fs.readdirSync(inTheWay)).toEqual(['leftover']);
});
