import * as fs from 'fs';
import * as path from 'path';

/**
 * A file the package ships under `third_party/` (given relative to the
 * package root), found from this module upwards: the sources, lib/, the
 * synth bundle and an installed package sit at different depths below it.
 * @internal
 */
export function vendoredFile(relativePath: string): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, relativePath))) return path.join(dir, relativePath);
    if (path.dirname(dir) === dir) throw new Error(`${relativePath} not found above ${__dirname}: the package is incomplete`);
  }
}
