// Mutation testing: `npm run test:mutation` (README, "Tests"). Not part of .ci/run: too slow on 2 cores.
// @ts-check
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  // The library. The todo tree (todo/) is configuration, and imports/ is generated from the Argo CD CRDs.
  mutate: ['src/**/*.ts'],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    config: {
      // Coverage is Stryker's own; jest's v8 coverage and junit reporter only cost time here.
      collectCoverage: false,
      reporters: ['default'],
      // synth-launcher.test.ts compiles a copy of src/ with tsc: in the sandbox every mutated file
      // carries `// @ts-nocheck`, so its "a compile error stops synth" case cannot hold. It guards
      // scripts/run-compiled.js, which is not mutated, and runs in child processes Stryker cannot see.
      testPathIgnorePatterns: ['/node_modules/', '/test/e2e/', '/test/synth-launcher.test.ts'],
      // Transpile only: a mutant can change an inferred type (e.g. of TODO_GIT) so that a test file no
      // longer type-checks, which would fail the initial run. Type-checking is `npm test`'s job.
      transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json', isolatedModules: true }] },
    },
  },
  // Run only the tests that cover a mutant: the whole suite takes about a minute.
  coverageAnalysis: 'perTest',
  // A mutant in module-level code (a static mutant) would need the whole suite each; skip them and
  // report them as ignored rather than spend an hour on a few dozen constants.
  ignoreStatic: true,
  // 2 cores, and other work (builds, end-to-end runs) shares them.
  concurrency: 1,
  timeoutMS: 30_000,
  // Re-test only mutants whose code or covering tests changed since the last run. The file is large
  // and rewritten every run, so it stays out of git (.gitignore: /reports/).
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: build output, packs, reports and the Go service (tested by app/test.sh).
  ignorePatterns: ['/lib', '/pack', '/coverage', '/test-reports', '/.tmp', '/reports', '/app', '/docs'],
  // Mutated files get `// @ts-nocheck`, so ts-jest runs them. Only src/: by default Stryker also marks
  // test/, and the README test reads test/example/billing-repository.ts verbatim. No TypeScript checker
  // either (it would double the run time), so a survivor may be a mutant that does not compile.
  disableTypeChecks: 'src/**/*.ts',
  cleanTempDir: 'always',
};
export default config;
