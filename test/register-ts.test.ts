import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// test/tools/register-ts.js, the loader of the end-to-end suites, the cluster program and the demo:
// what they rely on, in a real Node process.
const ROOT = path.resolve(__dirname, '..');

test('TypeScript modules load through register-ts.js: import() of a .ts module, TypeScript\'s class fields, stack traces on the .ts line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-ts-'));
  try {
    fs.writeFileSync(path.join(dir, 'lazy.ts'), 'export const answer: number = 42;\n');
    fs.writeFileSync(path.join(dir, 'main.ts'), [
      'class Base { constructor() { (this as any).name = "set by the base"; } }',
      'class Derived extends Base { public readonly name!: string; }',
      'async function main(): Promise<void> {',
      '  const { answer } = await import(\'./lazy\');',
      '  const line = (new Error().stack ?? \'\').split(\'\\n\')[1];',
      '  console.log(JSON.stringify({ answer, name: new Derived().name, line }));',
      '}',
      'main().catch(e => { console.error(e); process.exit(1); });',
      '',
    ].join('\n'));
    const out = JSON.parse(execFileSync(process.execPath, ['-r', path.join(ROOT, 'test', 'tools', 'register-ts.js'), path.join(dir, 'main.ts')], { encoding: 'utf-8' }));
    expect(out.answer).toBe(42);
    // useDefineForClassFields false, as tsconfig's ES2020 target: a bare declaration does not reset the field.
    expect(out.name).toBe('set by the base');
    expect(out.line).toMatch(/main\.ts:5:/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
