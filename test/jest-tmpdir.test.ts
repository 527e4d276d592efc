// jest runs in a temporary directory of its own (test/support/jest-global-setup.ts), so what tests
// and cdk8s' Testing.app() leave under os.tmpdir() is removed with it at the end of the run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';

test('os.tmpdir() is the run\'s own directory, where Testing.app() makes its output directory', () => {
  expect(path.basename(os.tmpdir())).toMatch(/^jest-run-/);
  expect(path.dirname(Testing.app().outdir)).toBe(os.tmpdir());
  expect(fs.existsSync(os.tmpdir())).toBe(true);
});
