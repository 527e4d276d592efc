import * as fs from 'fs';
import * as path from 'path';

/**
 * The documents of an upstream manifest the package ships under
 * `third_party/` as a JSON array (given relative to the package root): JSON
 * because parsing the YAML in a fresh process took a large share of a synth;
 * test/third-party.test.ts checks each JSON file equals its YAML.
 * @internal
 */
export function vendoredDocuments(relativePath: string): any[] {
  return JSON.parse(fs.readFileSync(vendoredFile(relativePath), 'utf-8'));
}

/**
 * A file the package ships, found from this module upwards: the sources,
 * lib/, the synth bundle and an installed package sit at different depths
 * below it.
 */
function vendoredFile(relativePath: string): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, relativePath))) return path.join(dir, relativePath);
    if (path.dirname(dir) === dir) throw new Error(`${relativePath} not found above ${__dirname}: the package is incomplete`);
  }
}
