// jest's globalSetup (the default export) and globalTeardown (teardown, re-exported by
// jest-global-teardown.ts): every run gets a temporary directory of its own (TMPDIR, inherited by
// the workers), removed when the run ends. cdk8s' Testing.app() makes an output directory under
// os.tmpdir() per call and never removes it: without this, every run left about 290 empty
// `cdk8s.outdir.*` directories in /tmp.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const RUN_TMPDIR = 'JEST_RUN_TMPDIR';

export default function setup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jest-run-'));
  process.env[RUN_TMPDIR] = dir;
  process.env.TMPDIR = dir;
}

export function teardown(): void {
  const dir = process.env[RUN_TMPDIR];
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
