// Loads the project's TypeScript test tooling (the end-to-end suites, the cluster program, the demo,
// the image helpers) under Node: `node -r ./test/tools/register-ts.js test/e2e/tanka.ts`. Each .ts
// module is compiled by esbuild when it is required, with the project's compiler options that change
// the emitted code; nothing is type-checked here (`npm run test:e2e` runs `tsc -p test/tsconfig.json`
// once first, and eslint and jest check the rest). It replaces ts-node's transpile-only mode, which
// compiled each module with TypeScript itself: a suite's modules took 3.6 CPU-seconds to load that
// way and take 0.3 now, a command of the cluster program 0.9 and 0.15, on a machine whose two cores
// the end-to-end lanes keep busy.
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

// tsconfig.json's options that change what is emitted (esbuild reads no tsconfig for a transform).
// target ES2020: class fields keep TypeScript's assignment semantics (a bare declaration emits nothing).
const TSCONFIG = { compilerOptions: { useDefineForClassFields: false, experimentalDecorators: true, esModuleInterop: true } };

// Stack traces name the .ts file and line (the source map is inline).
process.setSourceMapsEnabled(true);

require.extensions['.ts'] = (module, filename) => {
  const { code } = esbuild.transformSync(fs.readFileSync(filename, 'utf-8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: path.basename(filename),
    sourcemap: 'inline',
    tsconfigRaw: TSCONFIG,
    // `await import('./module')` becomes a require, as TypeScript emits it for CommonJS: Node's own
    // import() would look for the file as written, without the .ts this hook adds.
    supported: { 'dynamic-import': false },
  });
  module._compile(code, filename);
};
