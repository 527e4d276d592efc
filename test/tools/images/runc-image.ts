/**
 * An image in a registry as the root filesystem of a runc container, for kaniko-executor.ts and
 * smoke.ts: its files unpacked with the image's owners and modes, and its config. Both need crane
 * on PATH and run as root (only root can keep the owners).
 */
import { ChildProcess, spawn } from 'child_process';
import * as os from 'os';

/** Resolves to a child's exit status as a shell reports it: the code, or 128 + the signal's number. */
export function exitStatus(child: ChildProcess): Promise<number> {
  return new Promise(resolve => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    if (child.signalCode !== null) return resolve(128 + (os.constants.signals[child.signalCode] ?? 0));
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] ?? 0 : 0)));
  });
}

/**
 * `crane export REF - | tar -x -C DIR` as root with --numeric-owner/--same-permissions, so the
 * files keep the image's owners and modes; crane's and tar's errors go to stderr. `started` sees
 * each process, so that a caller interrupted meanwhile can stop them. Resolves to whether both
 * succeeded.
 */
export async function exportRootfs(ref: string, dir: string, craneFlags: string[],
  started: (child: ChildProcess) => void = () => undefined): Promise<boolean> {
  const { ok } = await craneExport(ref, craneFlags, ['-x', '-C', dir, '--numeric-owner', '--same-permissions'], 'inherit', started);
  return ok;
}

/** One file of the image, `crane export REF - | tar -xO FILE 2>&1`: its content, or tar's complaint. */
export async function exportFile(ref: string, file: string, craneFlags: string[],
  started: (child: ChildProcess) => void = () => undefined): Promise<{ ok: boolean; out: string }> {
  return craneExport(ref, craneFlags, ['-xO', file], 'pipe', started);
}

async function craneExport(ref: string, craneFlags: string[], tarArgs: string[], tarOutput: 'inherit' | 'pipe',
  started: (child: ChildProcess) => void): Promise<{ ok: boolean; out: string }> {
  const crane = spawn('crane', ['export', ...craneFlags, ref, '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const tar = spawn('tar', tarArgs, { stdio: [crane.stdout!, tarOutput, tarOutput] });
  started(crane);
  started(tar);
  let out = '';
  const read = Promise.all([tar.stdout, tar.stderr].map(stream => new Promise(resolve => {
    if (!stream) return resolve(undefined);
    stream.on('data', d => { out += d; });
    stream.once('close', resolve);
  })));
  const [craneStatus, tarStatus] = await Promise.all([exitStatus(crane), exitStatus(tar)]);
  await read;
  return { ok: craneStatus === 0 && tarStatus === 0, out };
}

/**
 * The image's config (the "config" of `crane config REF`: Env, Entrypoint, Cmd, WorkingDir);
 * crane's errors go to stderr. Throws when crane fails.
 */
export async function imageConfig(ref: string, craneFlags: string[]): Promise<ImageConfig> {
  const crane = spawn('crane', ['config', ...craneFlags, ref], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  crane.stdout!.on('data', d => { out += d; });
  const read = new Promise(resolve => crane.stdout!.once('close', resolve));
  const status = await exitStatus(crane);
  await read;
  if (status !== 0) throw new Error(`crane config ${ref} failed`);
  return JSON.parse(out).config ?? {};
}

/** The fields of an OCI image config the containers here use. */
export interface ImageConfig {
  readonly Env?: string[];
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly WorkingDir?: string;
}
