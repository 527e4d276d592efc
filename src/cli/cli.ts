/**
 * The `cdk8s-gitops` command line: synth, diff, view, build-image and secrets for a
 * repository's {@link GitOpsRepository}. Other teams run it through the
 * package's bin with `--app` naming their module; this repository binds it to
 * its own tree (todo/cli.ts). Each command's module is loaded only when that
 * command runs, so a synth does not pay for the diff or the image build.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseFlags, UsageError } from '../common/cli-flags';
import { CommandIo, processIo } from '../common/command-io';
import { GitOpsRepository } from '../gitops/gitops-repository';

/** The name of the bin, as users type it. */
export const CLI_NAME = 'cdk8s-gitops';

type Command = (repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo) => number | Promise<number>;

/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, { readonly summary: string; readonly load: () => Command }> = {
  'synth': {
    summary: 'write the GitOps tree and the Helm chart, all or nothing',
    load: () => (require('../gitops/synth-command') as typeof import('../gitops/synth-command')).synthCommand,
  },
  'diff': {
    summary: 'compare the working tree with a git ref or the cluster; flag dangerous changes',
    load: () => (require('../review/diff-command') as typeof import('../review/diff-command')).diffCommand,
  },
  'view': {
    summary: 'write an offline HTML page of the tree with the diff overlaid; --cluster serves it live against the cluster',
    load: () => (require('../review/view-command') as typeof import('../review/view-command')).viewCommand,
  },
  'build-image': {
    summary: 'build and push an image, pin its digest in the lock and the tree',
    load: () => (require('../image-build/build-image-command') as typeof import('../image-build/build-image-command')).buildImageCommand,
  },
  'secrets': {
    summary: 'seal values for an environment, fetch or re-encrypt with a cluster\'s key, list what is sealed',
    load: () => (require('../sealed-secrets/secrets-command') as typeof import('../sealed-secrets/secrets-command')).secretsCommand,
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Exit status of a command line that names no known command or no repository. */
const USAGE_EXIT = 2;

function usage(bound: boolean): string {
  const width = Math.max(...Object.keys(COMMANDS).map(c => c.length));
  return [
    `usage: ${CLI_NAME} <command> ${bound ? '' : '[--app FILE] '}[options]      (<command> --help for its options)`,
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    ...(bound ? [] : [
      '',
      '  --app FILE   the compiled module that exports your GitOpsRepository',
      `               (default: "${CLI_NAME}": { "app": FILE } in ./package.json)`,
    ]),
  ].join('\n');
}

/**
 * Runs one command line.
 * @param argv the arguments after the program name, e.g. `['diff', '--base', 'main']`
 * @param repository the repository the commands work on; without it, `--app` names the module to load it from
 * @returns the command's exit status
 */
export async function runCli(argv: readonly string[], io: CommandIo, repository?: GitOpsRepository<any>): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    const help = name === '--help' || name === '-h';
    (help ? io.stdout : io.stderr)(`${help || name === undefined ? '' : `error: unknown command "${name}"\n\n`}${usage(repository !== undefined)}\n`);
    return help ? 0 : USAGE_EXIT;
  }
  let args = rest;
  if (repository === undefined) {
    try {
      const app = takeAppFlag(rest);
      args = app.rest;
      repository = loadRepository(app.file ?? appFromPackageJson(io.cwd), io.cwd);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      io.stderr(`error: ${e.message}\n\n${usage(false)}\n`);
      return USAGE_EXIT;
    }
  }
  return command.load()(repository, args, io);
}

/** `--app FILE` out of a command's arguments, the rest left for the command. */
function takeAppFlag(argv: readonly string[]): { file?: string; rest: string[] } {
  const rest: string[] = [];
  const app: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--app' || argv[i].startsWith('--app=')) {
      app.push(argv[i]);
      if (argv[i] === '--app' && i + 1 < argv.length) app.push(argv[++i]);
    } else {
      rest.push(argv[i]);
    }
  }
  return { file: parseFlags(app, { values: ['app'], switches: [] }).value('app'), rest };
}

function appFromPackageJson(cwd: string): string {
  let pkg: any;
  try {
    pkg = JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf-8'));
  } catch {
    pkg = undefined;
  }
  const app = pkg?.[CLI_NAME]?.app;
  if (typeof app !== 'string') {
    throw new UsageError(`no repository module: pass --app FILE, or set "${CLI_NAME}": { "app": FILE } in ${path.join(cwd, 'package.json')}`);
  }
  return app;
}

/** The one {@link GitOpsRepository} `file` exports. */
function loadRepository(file: string, cwd: string): GitOpsRepository<any> {
  const resolved = path.resolve(cwd, file);
  if (!fs.existsSync(resolved)) throw new UsageError(`--app ${file}: ${resolved} does not exist (compile your TypeScript first, and name the .js file)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported: Record<string, unknown> = require(resolved);
  const found = Object.entries(exported).filter(([, value]) => GitOpsRepository.isGitOpsRepository(value));
  if (found.length !== 1) {
    throw new UsageError(`--app ${file} exports ${found.length === 0 ? 'no GitOpsRepository' : `several GitOpsRepository objects (${found.map(([k]) => k).join(', ')})`}: export exactly one`);
  }
  return found[0][1] as GitOpsRepository<any>;
}

/**
 * Runs the command line of this process and sets its exit status. The first
 * Ctrl-C (or SIGTERM) asks the command to stop and clean up (the image build
 * then leaves the lock and the manifests as they were); a second exits at once.
 */
export function main(repository?: GitOpsRepository<any>): void {
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupt.signal.aborted) process.exit(130);
      process.stderr.write(`${signal}: stopping; files are left as they were\n`);
      interrupt.abort(signal);
    });
  }
  runCli(process.argv.slice(2), processIo(interrupt.signal), repository).then(
    code => { process.exitCode = interrupt.signal.aborted ? 130 : code; },
    e => {
      process.stderr.write(`internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
