/** Prints a measured duration and keeps it in `timings`, which a suite prints again at its end. */
export function recordTiming(timings: string[], what: string, seconds: number): void {
  const line = `${what}: ${seconds.toFixed(1)}s`;
  timings.push(line);
  progress(`  time ${line}`);
}

/**
 * Shared harness of the end-to-end tests (test/e2e/*.ts): numbered steps
 * ("[e2e i/N] ..."), counted checks, child processes that are always stopped,
 * cleanups that always run (also on SIGINT/SIGTERM), and the closing line
 * "N passed, N failed" (", N skipped" appended when any step did not run).
 *
 * Every step that did not run is reported as skipped: skipped on purpose
 * (skipSteps), after a failed step or a signal, or never reached. The exit
 * status is 1 if anything failed, and also if any step was skipped unless
 * E2E_ALLOW_SKIP=1 says skipping is intended: a run that proved less than
 * its steps promise must not look like a pass in CI.
 *
 *   e2eMain({ steps: 12, tmp }, async () => {
 *     await section([['start X', async () => { ...; onCleanup('stop X', ...); check('X answers', ok); }]]);
 *   });
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');

let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];
const cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
let STEPS = 0;
let stepNo = 0;
let interrupted: NodeJS.Signals | undefined;
let finishing = false;

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function check(what: string, ok: boolean, detail = ''): boolean {
  if (ok) {
    passed++;
    progress(`  ok   ${what}`);
  } else {
    failed++;
    failures.push(`${what}${detail ? `: ${detail}` : ''}`);
    progress(`  FAIL ${what}${detail ? `\n       ${detail.replace(/\n/g, '\n       ')}` : ''}`);
  }
  return ok;
}

export function equal(what: string, actual: unknown, expected: unknown): boolean {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  return check(what, a === e, `got ${a}, expected ${e}`);
}

function skipStep(title: string, why: string): void {
  stepNo++;
  skipped++;
  progress(`[e2e ${stepNo}/${STEPS}] SKIPPED (${why}): ${title}`);
}

/** Counts steps that are not run at all (e.g. a missing optional tool) as skipped. */
export function skipSteps(titles: string[], why: string): void {
  for (const title of titles) skipStep(title, why);
}

/** Runs the steps of one section in order; a failed step skips the rest of its section. */
export async function section(steps: Array<[string, () => Promise<void>]>, evenIfInterrupted = false): Promise<boolean> {
  if (interrupted && !evenIfInterrupted) {
    for (const [title] of steps) skipStep(title, 'interrupted');
    return false;
  }
  for (let i = 0; i < steps.length; i++) {
    const [title, body] = steps[i];
    stepNo++;
    progress(`[e2e ${stepNo}/${STEPS}] ${title}`);
    const started = Date.now();
    const failedBefore = failed;
    try {
      await body();
    } catch (e) {
      check(`${title} ran without error`, false, (e as Error).message);
    }
    progress(`  (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    if (failed > failedBefore || interrupted) {
      for (const [rest] of steps.slice(i + 1)) skipStep(rest, interrupted ? 'interrupted' : 'earlier step failed');
      return false;
    }
  }
  return true;
}

export function onCleanup(what: string, undo: () => Promise<void> | void): void {
  cleanups.push({ what, run: undo });
}

async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      await c.run();
    } catch (e) {
      progress(`  cleanup "${c.what}" failed: ${(e as Error).message}`);
    }
  }
}

export interface RunResult { stdout: string; stderr: string; code: number | null }

/** Commands started by run() and still running; stopped first when the test is interrupted. */
const active = new Set<ChildProcess>();

/**
 * Throws once a signal came, unless the cleanups are running: only they start commands (or
 * requests) then, and the interrupted step ends at its next one.
 */
export function refuseIfInterrupted(what: string): void {
  if (interrupted && !finishing) throw new Error(`interrupted by ${interrupted}; not starting ${what}`);
}

/** Runs a command to completion; throws with the tail of its output on failure unless `allowFail`. */
export interface RunOptions { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean; echo?: string; input?: string }

export function run(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  try {
    refuseIfInterrupted(path.basename(file));
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    active.add(child);
    child.on('exit', () => active.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', d => { stdout += d; });
    child.stderr!.on('data', d => {
      stderr += d;
      if (options.echo !== undefined) process.stderr.write(String(d).replace(/^(?=.)/gm, options.echo));
    });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(options.input);
    }
    child.on('error', reject);
    child.on('close', code => {
      if (code !== 0 && !options.allowFail) {
        const tail = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${path.basename(file)} ${args.slice(0, 3).join(' ')} exited ${code}:\n${tail}`));
      } else {
        resolve({ stdout, stderr, code });
      }
    });
  });
}

/**
 * Runs test/tools/install.sh for `tools` (its progress echoed) and returns the
 * environment with the PATH line it printed.
 */
export async function installTools(tools: string[]): Promise<NodeJS.ProcessEnv> {
  const r = await run('bash', [path.join(ROOT, 'test', 'tools', 'install.sh'), ...tools], { echo: '    | ' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const m = /^export PATH="(.*)\$PATH"$/.exec(line);
  if (!m) throw new Error(`install.sh printed no PATH line: ${line}`);
  return { ...process.env, PATH: `${m[1]}${process.env.PATH}` };
}

/**
 * Starts waiting on `work` now, while the suite goes on, and returns a function that waits for it:
 * its result, or its error thrown. A rejection is held until then instead of being reported as
 * unhandled, so the step that needs the work is the one that fails.
 */
export function inBackground<T>(work: Promise<T>): () => Promise<T> {
  const settled = work.then(value => ({ value }), (error: Error) => ({ error }));
  return async () => {
    const r = await settled;
    if ('error' in r) throw r.error;
    return r.value;
  };
}

/** Checks that each command is on PATH in `env`; returns whether all are. */
export async function requireTools(env: NodeJS.ProcessEnv, tools: string[]): Promise<boolean> {
  let all = true;
  for (const tool of tools) {
    const found = await run('bash', ['-c', `command -v ${tool}`], { env, allowFail: true });
    all = check(`${tool} is on PATH (${found.stdout.trim()})`, found.code === 0) && all;
  }
  return all;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>(r => server.close(() => r()));
  return port;
}

export async function portInUse(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (interrupted) throw new Error(`interrupted by ${interrupted} while waiting for ${what}`);
    if (await probe().catch(() => false)) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`; resolves to its exit code. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', code => { clearTimeout(timer); resolve(code); });
    child.kill('SIGTERM');
  });
}

export function hashTree(p: string): string {
  const h = createHash('sha256');
  const walk = (q: string) => {
    const st = fs.statSync(q);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(q).sort()) {
        h.update(`dir ${path.relative(p, path.join(q, e))}\n`);
        walk(path.join(q, e));
      }
    } else {
      h.update(fs.readFileSync(q));
    }
  };
  if (fs.existsSync(p)) walk(p);
  return h.digest('hex');
}

/**
 * The CPU-seconds of the suite's process and of the commands it ran and waited for (kubectl, the
 * builds, the cluster program: /proc/self/stat's utime, stime, cutime and cstime, in the kernel's
 * USER_HZ of 100 a second); a cluster's daemons and pods run detached, counted in its `down` line.
 */
function cpuLine(): string {
  const f = fs.readFileSync('/proc/self/stat', 'utf-8').replace(/^.*\) /, '').split(' ').map(Number);
  // After the command name: field 3 is the state, so utime (field 14) is at index 11.
  const [utime, stime, cutime, cstime] = f.slice(11, 15);
  return `CPU: the suite's process ${((utime + stime) / 100).toFixed(1)} s, the commands it ran ${((cutime + cstime) / 100).toFixed(1)} s`;
}

async function finish(tmp: string, code?: number): Promise<never> {
  if (finishing) return new Promise<never>(() => undefined);
  finishing = true;
  // An interrupted command (e.g. the build CLI) stops its tools and cleans up on SIGTERM; wait for that.
  await Promise.all([...active].map(child => stopProcess(child, 15_000)));
  await cleanupAll();
  for (let attempt = 1; ; attempt++) {
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
      break;
    } catch (e) {
      // A tool that was just killed can still be writing for a moment.
      if (attempt === 5) {
        progress(`  could not remove ${tmp}: ${(e as Error).message}`);
        break;
      }
      await sleep(1000);
    }
  }
  // A suite that returned early (e.g. after its setup failed) never reached its last steps.
  while (stepNo < STEPS) skipStep('(not reached)', 'the run ended before this step');
  // More steps than announced means the suite's count is wrong, and "i/N" progress lied.
  if (stepNo > STEPS) check(`ran the announced ${STEPS} steps`, false, `${stepNo} steps ran or were skipped`);
  progress(`\n${cpuLine()}`);
  progress(summaryLine(passed, failed, skipped));
  for (const f of failures) progress(`  failed: ${f.split('\n')[0]}`);
  const allowSkip = process.env.E2E_ALLOW_SKIP === '1';
  if (skipped > 0 && !allowSkip && failed === 0) {
    progress(`  ${skipped} step(s) skipped: exit status 1; set E2E_ALLOW_SKIP=1 if skipping is intended`);
  }
  process.exit(code ?? exitStatus({ passed, failed, skipped, interrupted: !!interrupted, allowSkip }));
}

/** The closing line: "N passed, N failed", with ", N skipped" when any step did not run. */
export function summaryLine(passedChecks: number, failedChecks: number, skippedSteps: number): string {
  return `${passedChecks} passed, ${failedChecks} failed${skippedSteps ? `, ${skippedSteps} skipped` : ''}`;
}

/**
 * 130 after a signal; 1 if a check failed, nothing was checked, or a step was skipped without
 * E2E_ALLOW_SKIP=1; otherwise 0.
 */
export function exitStatus(r: { passed: number; failed: number; skipped: number; interrupted: boolean; allowSkip: boolean }): number {
  if (r.interrupted) return 130;
  if (r.failed > 0 || r.passed === 0) return 1;
  return r.skipped > 0 && !r.allowSkip ? 1 : 0;
}

/**
 * Runs `main` with `steps` numbered steps, then stops every command still
 * running, runs the cleanups (last registered first), removes `tmp`, prints
 * the summary and exits.
 *
 * First signal: stop the running command (which then cleans up after itself)
 * and skip the remaining steps, so cleanup runs once, in order. Second signal:
 * clean up right away.
 */
export function e2eMain(options: { steps: number; tmp: string }, main: () => Promise<void>): void {
  STEPS = options.steps;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) {
        void finish(options.tmp, 130);
        return;
      }
      // Already cleaning up: the commands running are the cleanups' (a cluster's down); killing one would leave what it removes.
      if (finishing) {
        progress(`\n${signal} while cleaning up: the cleanups finish first`);
        return;
      }
      interrupted = signal;
      check(`not interrupted by ${signal}`, false);
      progress(`\n${signal}: stopping running commands, then cleaning up`);
      for (const child of active) child.kill('SIGTERM');
    });
  }
  // Whatever escapes the steps (an 'error' event nothing listens to, a rejection nothing awaits)
  // fails the run, and the cleanups still run: the clusters' daemons are detached and would stay.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, e => {
      check(`no ${event}`, false, (e as Error)?.stack ?? String(e));
      void finish(options.tmp);
    });
  }
  const started = Date.now();
  main().then(
    () => { progress(`total ${((Date.now() - started) / 1000).toFixed(0)}s`); return finish(options.tmp); },
    e => { check('e2e ran without an unexpected error', false, (e as Error).stack ?? String(e)); return finish(options.tmp); },
  );
}
