import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CommandIo } from '../common/command-io';

/** How to run one external tool. */
export interface CommandSpec {
  /** Executable: a name looked up on PATH, or a path. */
  readonly file: string;
  /** Arguments, never passed through a shell. */
  readonly args: string[];
  /**
   * Working directory.
   * @default - the current directory
   */
  readonly cwd?: string;
  /**
   * Variables set on top of the caller's environment.
   * @default - none
   */
  readonly env?: Record<string, string>;
  /**
   * File that receives the command's stdout when it succeeds, for tools that
   * report what they pushed only there (`docker push`).
   * @default - stdout is only streamed
   */
  readonly stdoutFile?: string;
}

/** What a tool inherits (PATH finds it) and where its stdout and stderr go as they arrive. */
export type ToolIo = Pick<CommandIo, 'env' | 'stderr'>;

/** Commands running now, so an interrupted build can stop them and still clean up. */
const running = new Set<ChildProcess>();

/**
 * Sends `signal` to every command {@link runCommand} is running. Each then
 * fails its step as usual, so the build removes its temporary files and leaves
 * the lock and the manifests alone.
 */
export function terminateRunningCommands(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of running) child.kill(signal);
}

/** Lines of output quoted in the error when a command fails. */
const TAIL_LINES = 20;

/** The shell-quoted form of a command, for progress lines and error messages. */
export function formatCommand(spec: CommandSpec): string {
  const envPart = Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${quote(v)} `).join('');
  return envPart + [spec.file, ...spec.args].map(quote).join(' ');
}

function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * The absolute path of `file` if it is executable: a path is checked as is,
 * a bare name is looked up on `env.PATH` like a shell does.
 */
export function findExecutable(file: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = file.includes('/') ? [path.resolve(file)]
    : (env.PATH ?? '').split(path.delimiter).filter(d => d !== '').map(d => path.join(d, file));
  for (const candidate of candidates) {
    try {
      const stat = fs.statSync(candidate);
      if (stat.isFile()) {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      }
    } catch {
      // Not here or not executable: try the next directory.
    }
  }
  return undefined;
}

/**
 * Runs a command to completion, streaming its output to `io.stderr`.
 * Resolves to everything the command wrote to stdout.
 *
 * @throws Error naming the tool and quoting the end of its output when it
 *   cannot be started or exits non-zero; build tools print the real cause
 *   last, so the tail is what makes the message useful.
 */
export function runCommand(spec: CommandSpec, io: ToolIo): Promise<string> {
  const executable = findExecutable(spec.file, io.env);
  if (!executable) {
    return Promise.reject(new Error(`${spec.file} not found${spec.file.includes('/') ? '' : ' on PATH'}; install it or use another --builder`));
  }
  return new Promise((resolve, reject) => {
    let tail = '';
    const stdout: Buffer[] = [];
    const collect = (data: Buffer) => {
      const text = data.toString('utf-8');
      io.stderr(text);
      // Keep a bounded window: enough for TAIL_LINES long lines.
      tail = (tail + text).slice(-TAIL_LINES * 400);
    };
    const child = spawn(executable, spec.args, {
      cwd: spec.cwd,
      env: { ...io.env, ...(spec.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.stdout.on('data', (data: Buffer) => { stdout.push(data); collect(data); });
    child.stderr.on('data', collect);
    child.on('error', e => {
      running.delete(child);
      reject(new Error(`cannot run ${spec.file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      if (code === 0) {
        const text = Buffer.concat(stdout).toString('utf-8');
        if (spec.stdoutFile) fs.writeFileSync(spec.stdoutFile, text);
        return resolve(text);
      }
      const status = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      const lines = tail.split('\n').filter(l => l.trim() !== '').slice(-TAIL_LINES);
      const quoted = lines.length ? `; last output:\n${lines.map(l => `    ${l}`).join('\n')}` : ' without output';
      reject(new Error(`${path.basename(spec.file)} ${status}${quoted}`));
    });
  });
}
