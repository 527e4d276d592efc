/** A command line that cannot be understood; the command prints it with its usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses `--name value` and `--switch` arguments.
 * @returns values by flag name (switches map to 'true')
 * @throws UsageError for an unknown flag or a missing value
 */
export function parseFlags(argv: readonly string[], valueFlags: readonly string[], switches: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (switches.includes(name)) {
      flags.set(name, 'true');
    } else if (valueFlags.includes(name)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown argument "${argv[i]}"`);
    }
  }
  return flags;
}

/** What a command line asks for. */
export interface CommandLineSpec {
  /** Flags that take a value. */
  readonly values: readonly string[];
  /** Flags without a value (`--help` is always one). */
  readonly switches: readonly string[];
  /** The usage text, printed for `--help` and after a usage error. */
  readonly usage: string;
  /** Exit status after a usage error. */
  readonly usageExit: number;
  /** Further checks of the parsed flags; throw UsageError to refuse them. */
  readonly check?: (flags: Map<string, string>) => void;
}

/**
 * Parses a command line by `spec`: the flags, or the exit status when it
 * asked for `--help` (usage printed to `stdout`) or could not be understood
 * (the error and the usage printed to `stderr`).
 */
export function readCommandLine(
  argv: readonly string[], spec: CommandLineSpec, io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Map<string, string> | number {
  try {
    const flags = parseFlags(argv, spec.values, [...spec.switches, 'help']);
    if (flags.has('help')) {
      io.stdout(`${spec.usage}\n`);
      return 0;
    }
    spec.check?.(flags);
    return flags;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`error: ${e.message}\n\n${spec.usage}\n`);
    return spec.usageExit;
  }
}
