import { CommandIo } from './command-io';

/** A command line that cannot be understood; the command prints it with its usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What a command line accepts. */
export interface CommandLineSpec {
  /** Flags that take a value, given as `--flag value` or `--flag=value`; each at most once. */
  readonly values: readonly string[];
  /**
   * Flags that take a value and may be given several times (`--build-arg A=1 --build-arg B=2`).
   * @default - none
   */
  readonly repeatable?: readonly string[];
  /** Flags without a value. `--help` (and `-h`) is always one. */
  readonly switches: readonly string[];
  /** The usage text, printed for `--help` and after a usage error. */
  readonly usage: string;
  /** Exit status after a usage error. */
  readonly usageExit: number;
  /** Further checks of the parsed flags; throw UsageError to refuse them. */
  readonly check?: (flags: Flags) => void;
}

/** The flags of a parsed command line. */
export class Flags {
  /** @internal */
  constructor(private readonly given: ReadonlyMap<string, readonly string[]>) {}

  /** Whether `--name` was given. */
  public has(name: string): boolean {
    return this.given.has(name);
  }

  /** The value of `--name`, if given. */
  public value(name: string): string | undefined {
    return this.given.get(name)?.[0];
  }

  /** Every value of a repeatable `--name`, in the order given. */
  public values(name: string): readonly string[] {
    return this.given.get(name) ?? [];
  }
}

/**
 * Parses `argv` by `spec`: `--flag value` and `--flag=value` alike, switches
 * without a value; a flag given twice is an error unless it is repeatable.
 * @throws UsageError for an unknown, repeated or incomplete flag
 */
export function parseFlags(argv: readonly string[], spec: Pick<CommandLineSpec, 'values' | 'repeatable' | 'switches'>): Flags {
  const repeatable = spec.repeatable ?? [];
  const given = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg === '-h' ? '--help' : arg);
    if (!m) throw new UsageError(`unknown argument "${arg}"`);
    const [, name, inline] = m;
    let value: string;
    if (name === 'help' || spec.switches.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      value = 'true';
    } else if (spec.values.includes(name) || repeatable.includes(name)) {
      if (inline !== undefined) {
        value = inline;
      } else {
        // A following flag is a forgotten value, not a value that starts with dashes.
        if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`--${name} needs a value`);
        value = argv[++i];
      }
    } else {
      throw new UsageError(`unknown argument "${arg}"`);
    }
    const values = given.get(name);
    if (values && !repeatable.includes(name)) throw new UsageError(`--${name} is given twice: give it once`);
    given.set(name, [...(values ?? []), value]);
  }
  return new Flags(given);
}

/**
 * Parses a command line by `spec`: the flags, or the exit status when it
 * asked for `--help` (usage printed to `stdout`) or could not be understood
 * (the error and the usage printed to `stderr`).
 */
export function readCommandLine(argv: readonly string[], spec: CommandLineSpec, io: Pick<CommandIo, 'stdout' | 'stderr'>): Flags | number {
  try {
    const flags = parseFlags(argv, spec);
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
