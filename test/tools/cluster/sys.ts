/**
 * Running commands and waiting, for the cluster program: every command is a
 * child process (never a shell string), its output captured; an interrupt
 * (SIGINT/SIGTERM) makes the next wait or command throw, so `up` unwinds into
 * its teardown.
 */
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';

let interruptedBy: NodeJS.Signals | undefined;

/** After this, every wait and command throws: used by the CLI's signal handlers. */
export function interrupt(signal: NodeJS.Signals): void {
  interruptedBy = signal;
}

function checkInterrupted(what: string): void {
  if (interruptedBy) throw new Error(`interrupted by ${interruptedBy} (${what})`);
}

export function progressLine(prefix: string, line: string): void {
  process.stderr.write(`[${prefix}] ${line}\n`);
}

export interface CommandResult { stdout: string; stderr: string; code: number }

/** Runs `file args`; throws with its stderr unless it exits 0 (or `allowFail`). */
export interface CommandOptions { input?: string | Buffer; allowFail?: boolean; env?: NodeJS.ProcessEnv }

export function sh(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  checkInterrupted(`${file} ${args.slice(0, 2).join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as any).code === 'number' ? (error as any).code : 1) : 0;
      if (code !== 0 && !options.allowFail) {
        reject(new Error(`${file} ${args.join(' ').slice(0, 300)} exited ${code}: ${String(stderr || stdout || error?.message).trim().split('\n').slice(-10).join('\n')}`));
      } else {
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      }
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Whether `sh` succeeds. */
export async function succeeds(file: string, args: string[]): Promise<boolean> {
  return (await sh(file, args, { allowFail: true })).code === 0;
}

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** True while `pid` exists and is not a zombie. */
export function running(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Polls `probe` every `intervalMs` until it returns true; fails when `timeoutS`
 * pass or when `alive()` (the daemon that should bring it about) says it died.
 */
export async function waitUntil(what: string, timeoutS: number, probe: () => Promise<boolean>,
  alive: () => string | undefined = () => undefined, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    checkInterrupted(`waiting for ${what}`);
    if (await probe().catch(() => false)) return;
    const died = alive();
    if (died) throw new Error(`${died} while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutS}s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Starts a detached process (its own session), output appended to `log`; returns its pid. */
export function spawnDetached(file: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): number {
  const out = fs.openSync(log, 'a');
  const child = spawn(file, args, { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${file}`);
  return child.pid;
}

/** The last `n` lines of a file ('' when it is missing). */
export function tail(file: string, n = 30): string {
  try {
    return fs.readFileSync(file, 'utf-8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Whether `command` is on PATH. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const f = `${dir}/${command}`;
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
