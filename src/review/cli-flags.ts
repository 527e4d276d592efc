/** A command line that cannot be understood; the command prints it with its usage. */
export class UsageError extends Error {}

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
