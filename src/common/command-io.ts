/** Where a command reads and writes; tests pass their own, the CLI the process's. */
export interface CommandIo {
  /** Receives the result. */
  readonly stdout: (text: string) => void;
  /** Receives progress, errors and the output of the tools a command runs. */
  readonly stderr: (text: string) => void;
  /** Whether stdout is a colour terminal. */
  readonly color: boolean;
  /** Working directory: relative paths and the git repository are found from it. */
  readonly cwd: string;
  /** Environment of the command and of the tools it runs (PATH finds them). */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Aborted when the command should stop (Ctrl-C): it stops what runs and cleans up.
   * @default - never aborted
   */
  readonly signal?: AbortSignal;
  /**
   * Reads all of standard input (`secrets seal` reads the value to seal from it).
   * @default - the process's standard input
   */
  readonly stdin?: () => Buffer;
}

/** The running process's streams, directory and environment. */
export function processIo(signal?: AbortSignal): CommandIo {
  return {
    stdout: text => process.stdout.write(text),
    stderr: text => process.stderr.write(text),
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    cwd: process.cwd(),
    env: process.env,
    signal,
  };
}
