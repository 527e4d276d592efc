import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { exitStatus, inBackground, summaryLine } from './e2e/harness';

// The end-to-end suites are too slow for `npm test`, so the promise that a run which skipped steps
// never looks like a pass is checked here, on the harness alone.
const ROOT = path.resolve(__dirname, '..');
jest.setTimeout(60_000);

describe('closing line and exit status', () => {
  test('"N passed, N failed", with ", N skipped" only when a step was skipped', () => {
    expect(summaryLine(12, 0, 0)).toBe('12 passed, 0 failed');
    expect(summaryLine(9, 1, 4)).toBe('9 passed, 1 failed, 4 skipped');
  });

  test.each([
    ['all passed', { passed: 3, failed: 0, skipped: 0, interrupted: false, allowSkip: false }, 0],
    ['a failure', { passed: 3, failed: 1, skipped: 0, interrupted: false, allowSkip: false }, 1],
    ['nothing checked', { passed: 0, failed: 0, skipped: 0, interrupted: false, allowSkip: false }, 1],
    ['a skipped step', { passed: 3, failed: 0, skipped: 1, interrupted: false, allowSkip: false }, 1],
    ['a skipped step with E2E_ALLOW_SKIP=1', { passed: 3, failed: 0, skipped: 1, interrupted: false, allowSkip: true }, 0],
    ['a failure with E2E_ALLOW_SKIP=1', { passed: 3, failed: 1, skipped: 1, interrupted: false, allowSkip: true }, 1],
    ['a signal', { passed: 3, failed: 0, skipped: 0, interrupted: true, allowSkip: true }, 130],
  ])('%s', (_, result, status) => {
    expect(exitStatus(result)).toBe(status);
  });
});

describe('inBackground', () => {
  test('the function it returns gives the work\'s result', async () => {
    const waitForIt = inBackground(new Promise<number>(resolve => setTimeout(() => resolve(42), 10)));
    await expect(waitForIt()).resolves.toBe(42);
  });

  test('a failure is held, not reported as unhandled, until awaited, then thrown each time', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const waitForIt = inBackground(Promise.reject(new Error('pull failed')));
      await new Promise(resolve => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      await expect(waitForIt()).rejects.toThrow('pull failed');
      await expect(waitForIt()).rejects.toThrow('pull failed');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/** Runs a 4-step suite on the real harness: one step passes, one is skipped, then it returns early. */
function runSuite(env: Record<string, string>) {
  const suite = `
    import { check, e2eMain, run, section, skipSteps } from './test/e2e/harness';
    e2eMain({ steps: 4, tmp: '/nonexistent-e2e-harness-test' }, async () => {
      // A command that spends CPU, for the closing CPU line to count.
      await section([['first', async () => { check('first works', (await run('sh', ['-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'])).code === 0); }]]);
      skipSteps(['second'], 'tool missing');
    });`;
  const ts = require.resolve('ts-node/dist/bin.js');
  const { E2E_ALLOW_SKIP: _, ...inherited } = process.env;
  return spawnSync(process.execPath, [ts, '--transpile-only', '-P', 'test/tsconfig.json', '-e', suite], {
    cwd: ROOT, encoding: 'utf-8', env: { ...inherited, ...env },
  });
}

describe('a run with skipped steps', () => {
  test('reports the skipped and the never-reached steps, and exits 1', () => {
    const run = runSuite({});
    expect(run.stderr).toContain('[e2e 2/4] SKIPPED (tool missing): second');
    expect(run.stderr).toContain('[e2e 3/4] SKIPPED (the run ended before this step): (not reached)');
    expect(run.stderr).toContain('[e2e 4/4] SKIPPED (the run ended before this step): (not reached)');
    expect(run.stderr).toContain('\n1 passed, 0 failed, 3 skipped\n');
    expect(run.stderr).toContain('set E2E_ALLOW_SKIP=1 if skipping is intended');
    // The CPU line before the closing line: the shell loop's seconds are the commands'.
    const cpu = /\nCPU: the suite's process ([\d.]+) s, the commands it ran ([\d.]+) s\n1 passed/.exec(run.stderr);
    expect(Number(cpu?.[2])).toBeGreaterThan(0.1);
    expect(run.status).toBe(1);
  });

  test('exits 0 when E2E_ALLOW_SKIP=1 says skipping is intended', () => {
    const run = runSuite({ E2E_ALLOW_SKIP: '1' });
    expect(run.stderr).toContain('\n1 passed, 0 failed, 3 skipped\n');
    expect(run.status).toBe(0);
  });
});

describe('what escapes the steps', () => {
  test('an \'error\' event nothing listens to fails the run, and the cleanups still run', () => {
    const marker = path.join(os.tmpdir(), `e2e-harness-cleanup-${process.pid}`);
    const suite = `
      import { EventEmitter } from 'events';
      import * as fs from 'fs';
      import { check, e2eMain, onCleanup, section } from './test/e2e/harness';
      e2eMain({ steps: 1, tmp: '/nonexistent-e2e-harness-test' }, async () => {
        onCleanup('the marker', async () => { fs.writeFileSync(${JSON.stringify(marker)}, 'cleaned'); });
        await section([['first', async () => {
          check('first works', true);
          setTimeout(() => new EventEmitter().emit('error', new Error('spawn argocd-repo-server ENOENT')), 10);
          await new Promise(resolve => setTimeout(resolve, 5000));
        }]]);
      });`;
    try {
      const run = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', '-P', 'test/tsconfig.json', '-e', suite], {
        cwd: ROOT, encoding: 'utf-8',
      });
      expect(run.stderr).toContain('FAIL no uncaughtException');
      expect(run.stderr).toContain('spawn argocd-repo-server ENOENT');
      expect(fs.readFileSync(marker, 'utf-8')).toBe('cleaned');
      expect(run.status).toBe(1);
    } finally {
      fs.rmSync(marker, { force: true });
    }
  });
});
