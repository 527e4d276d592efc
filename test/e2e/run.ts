/**
 * `npm run test:e2e`: every end-to-end suite, in lanes that run at once (three by default), each lane
 * one suite at a time. The suites are dealt to the lanes longest first, each to the lane with the
 * least time so far, by their times on this machine (SUITE_SECONDS): CloudNativePG's suite, which
 * runs the web tier's drills in the same cluster, takes a lane of its own. The suites mostly wait
 * (node controllers' grace periods, archive_timeout, pods starting): with two lanes the two cores
 * were a fifth idle (82% busy). Every cluster lives in network namespaces and a directory of its own, so
 * several run side by side; test/tools/install.sh and test/tools/images/build.sh take locks, so two
 * suites never build the same tool or image, or run apt-get, at once. Each suite's output goes to
 * the terminal with its name in front of every line and, whole, to E2E_LOGS/<suite>.log; at the end
 * a table gives each suite's status, time and "N passed, N failed" line, then every failed check
 * again with its step and detail (a CI log's tail is often all there is). The exit status is 1 if
 * any suite failed.
 *
 *   npm run test:e2e                                 # all, three lanes (root)
 *   E2E_LANES=1 npm run test:e2e                     # all, one after another
 *   npm run test:e2e -- tanka fleet                  # some, by name
 *
 * Environment: E2E_LANES (1 to the number of suites, default 3), E2E_LOGS (default a new directory under /tmp).
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './harness';
import { DEFAULT_LANES, SUITES, Suite, dealToLanes } from './lanes';

interface Outcome { suite: Suite; code: number; seconds: number; summary: string; failures: string[][] }

/** How a check's detail is indented under its "  FAIL" line (harness.ts's check). */
const FAILURE_DETAIL = '       ';
/** At most this many lines of a failed check (its step, itself, its detail) are repeated at the end. */
const FAILURE_LINES = 14;
/** At most this many failed checks of a suite are repeated at the end. */
const MAX_FAILURES_SHOWN = 5;

const log = (line: string) => process.stderr.write(`[e2e-run] ${line}\n`);

/** The suites running now; a signal is passed on to them, and no further suite starts. */
const running = new Set<ChildProcess>();
let interrupted: NodeJS.Signals | undefined;
/** Passes `signal` on to the running suites, which clean up, and starts no further suite. */
function stop(signal: NodeJS.Signals): void {
  interrupted = signal;
  log(`${signal}: passed on to ${running.size} running suite(s), which clean up; no further suite starts`);
  for (const child of running) child.kill(signal);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));

/** Runs one suite, its lines prefixed with its name; resolves when it exits. */
function runSuite(suite: Suite, logs: string, prefixed: boolean): Promise<Outcome> {
  const started = Date.now();
  const file = fs.createWriteStream(path.join(logs, `${suite.name}.log`));
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test', 'tools', 'register-ts.js'), path.join(__dirname, `${suite.name}.ts`)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let summary = '';
  let partial = '';
  let step = '';
  /** Each failed check: its step's heading, its line, then its indented detail (the array grows while collected). */
  const failures: string[][] = [];
  /** The failure being collected. */
  let failure: string[] | undefined;
  const onData = (chunk: Buffer) => {
    file.write(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (/^\d+ passed, \d+ failed/.test(line)) summary = line;
      if (/^\[e2e \d+\/\d+\] /.test(line)) step = line;
      if (failure && line.startsWith(FAILURE_DETAIL) && failure.length < FAILURE_LINES) {
        failure.push(line);
      } else {
        failure = undefined;
      }
      if (line.startsWith('  FAIL ')) {
        failure = [step.slice(0, 200), line];
        failures.push(failure);
      }
      process.stderr.write(prefixed ? `${suite.name.padEnd(14)}| ${line}\n` : `${line}\n`);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return new Promise(resolve => child.on('close', (code, signal) => {
    running.delete(child);
    if (partial) onData(Buffer.from('\n'));
    file.end();
    resolve({ suite, code: code ?? (signal ? 128 : 1), seconds: (Date.now() - started) / 1000, summary, failures });
  }));
}

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const unknown = names.filter(n => !SUITES.includes(n));
  if (unknown.length) throw new Error(`no suite ${unknown.join(', ')}; the suites: ${SUITES.join(', ')}`);
  const lanes = Number(process.env.E2E_LANES ?? DEFAULT_LANES);
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > SUITES.length) {
    throw new Error(`E2E_LANES must be a whole number from 1 to ${SUITES.length}, got ${process.env.E2E_LANES}`);
  }
  const queues = dealToLanes(names.length ? names : SUITES, lanes);
  const suites = queues.flat();
  const logs = process.env.E2E_LOGS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-logs-'));
  fs.mkdirSync(logs, { recursive: true });
  const started = Date.now();
  const typeCheck = typeCheckSuites();
  log(`${queues.length} lane(s): ${queues.map((q, i) => `${i + 1}: ${q.map(s => s.name).join(', ')}`).join('; ')}; whole logs in ${logs}`);
  const outcomes: Outcome[] = [];
  let done = 0;
  await Promise.all(queues.map(async queue => {
    for (const suite of queue) {
      if (interrupted) break;
      log(`starting ${suite.name} (lane ${suite.lane})`);
      const outcome = await runSuite(suite, logs, queues.length > 1);
      outcomes.push(outcome);
      log(`${suite.name} ${outcome.code === 0 ? 'passed' : `FAILED (exit ${outcome.code})`} in ${outcome.seconds.toFixed(0)} s; ${++done}/${suites.length} done`);
    }
  }));

  const typeErrors = await typeCheck;
  log(`all suites in ${((Date.now() - started) / 1000 / 60).toFixed(1)} min:`);
  for (const suite of suites) {
    const o = outcomes.find(x => x.suite === suite);
    if (!o) log(`  SKIP ${suite.name.padEnd(15)}     -    not run (${interrupted})`);
    else log(`  ${o.code === 0 ? 'ok  ' : 'FAIL'} ${suite.name.padEnd(15)} ${o.seconds.toFixed(0).padStart(5)} s  ${o.summary || '(no summary line)'}`);
  }
  // Again at the very end, where a CI log's tail shows them: what failed, in which step, with its detail.
  for (const o of outcomes.filter(x => x.failures.length)) {
    log(`${o.suite.name}: ${o.failures.length} failed check(s) (whole log: ${path.join(logs, `${o.suite.name}.log`)})`);
    for (const lines of o.failures.slice(0, MAX_FAILURES_SHOWN)) for (const line of lines) log(`  ${line}`);
  }
  if (typeErrors) log(`the suites do not type-check (tsc -p test/tsconfig.json), so the run failed:\n${typeErrors}`);
  return !interrupted && !typeErrors && outcomes.every(o => o.code === 0) ? 0 : 1;
}

/**
 * The suites run transpile-only (test/tools/register-ts.js): their types are checked here, once,
 * beside them rather than before (15 CPU-seconds, on a run's critical path otherwise). A type
 * error stops the run (the suites running get SIGINT and clean up); resolves to tsc's output
 * then, or to '' when the types are sound.
 */
function typeCheckSuites(): Promise<string> {
  log('type-checking the suites beside them (tsc -p test/tsconfig.json)');
  return new Promise(resolve => execFile(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', path.join(ROOT, 'test', 'tsconfig.json')],
    { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) {
        log('the suites type-check');
        return resolve('');
      }
      const output = `${stdout}${stderr}`.trim() || error.message;
      log(`the suites do not type-check: stopping the run\n${output}`);
      stop('SIGINT');
      resolve(output);
    }));
}

main().then(code => process.exit(code), e => {
  log(`ERROR: ${(e as Error).message}`);
  process.exit(1);
});
