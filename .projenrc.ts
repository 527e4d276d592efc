import { javascript, typescript, YamlFile } from 'projen';

// Vendored with their provenance in third_party/README.md: the repository needs nothing beside it.
const ARGO_CD_CRDS = 'third_party/argo-cd-v3.6.1/crds';
const SEALED_SECRETS_CRD = 'third_party/sealed-secrets-v0.27.1/bitnami.com_sealedsecrets.yaml';

const project = new typescript.TypeScriptProject({
  name: '@acme/cdk8s-go-postgres',
  description: 'cdk8s constructs and GitOps app for a Go web service backed by Postgres, synced by Argo CD',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,
  release: false,
  license: 'Apache-2.0',
  copyrightOwner: 'Acme',
  typescriptVersion: '~5.9.3',
  minNodeVersion: '20.0.0',
  // yaml reads committed trees for the diff; cytoscape draws the topology viewer (inlined into its page).
  deps: ['cdk8s@^2.70.106', 'cdk8s-plus-27@^2.9.5', 'constructs@^10.8.1', 'yaml@^2.9.1', 'cytoscape@^3.34.4'],
  devDeps: [
    'cdk8s-cli@2.207.60', 'ajv@^8.20.0', 'ts-node@^10.9.2',
    // Drives Debian's chromium in the viewer test (its own browser downloads cannot work here).
    'playwright-core@1.65.1',
    // Bundles the synth entry point (scripts/run-compiled.js): one file loads faster than ~150 modules.
    'esbuild@~0.28.2',
    // Mutation testing (npm run test:mutation). 9.6 is the last line that runs on Node 20; 10.x needs Node 22.
    '@stryker-mutator/core@~9.6.1', '@stryker-mutator/jest-runner@~9.6.1',
  ],
  jestOptions: {
    jestVersion: '^29',
    // CI must fail on a changed snapshot instead of silently rewriting it.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
      // Stryker's sandbox is a copy of the project: jest must not see a second package.json and test/.
      modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
      moduleNameMapper: { '^@acme/cdk8s-go-postgres$': '<rootDir>/src/index.ts' },
    },
  },
  sampleCode: false,
  // The generated Argo CD types live in imports/, outside src/, so the compile root is the repo.
  entrypoint: 'lib/src/index.js',
  entrypointTypes: 'lib/src/index.d.ts',
  tsconfig: {
    compilerOptions: { rootDir: '.' },
    include: ['src/**/*.ts', 'imports/**/*.ts'],
  },
  tsconfigDev: {
    // The README's library example imports the package by name; tests compile it against src/.
    // skipLibCheck: playwright-core's types assume the DOM library, which this Node project does not load.
    compilerOptions: { rootDir: '..', baseUrl: '..', paths: { '@acme/cdk8s-go-postgres': ['src/index.ts'] }, skipLibCheck: true },
    include: ['src/**/*.ts', 'imports/**/*.ts', 'test/**/*.ts'],
  },
  // dist/ holds the committed GitOps tree, so npm pack output goes elsewhere.
  artifactsDirectory: 'pack',
  // Stryker's sandbox and reports (HTML, and the incremental file: large, rewritten every run) are scratch.
  gitignore: ['/.tmp/', '/pack/', '/gitops-view.html', '/.stryker-tmp/', '/reports/'],
  npmignoreEnabled: true,
  // The Sealed Secrets CRD ships with the package: SealedSecretsController reads it at synth.
  npmIgnoreOptions: { ignorePatterns: ['/app/', '/helm/', '/imports/*.ts', '!/imports/*.d.ts', '/.ci/', '/images.lock.json', '/cdk8s.yaml', '/.tmp/', '/third_party/*', '!/third_party/sealed-secrets-v0.27.1/', '/scripts/', '/stryker.config.mjs', '/.stryker-tmp/', '/reports/'] },
  eslintOptions: { dirs: ['src'], devdirs: ['test'], ignorePatterns: ['imports/', 'lib/', 'dist/', 'app/', 'node_modules/'] },
});

// eslint-import-resolver-typescript 3.9+ depends on unrs-resolver, whose per-platform bindings the
// registry here does not all serve; the lock file npm then writes is one `npm ci` rejects.
project.deps.removeDependency('eslint-import-resolver-typescript');
project.addDevDeps('eslint-import-resolver-typescript@~3.8.4');

// Resolve imports the way the tests compile them, including the README example's package import.
project.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.typescript.project', './test/tsconfig.json');

// dist/ is the committed GitOps tree that Argo CD syncs.
project.gitignore.removePatterns('/dist/');
project.npmignore?.addPatterns('/dist/');
// The synth launcher's bundles and the benchmark's compiled scenario are not part of the library.
project.npmignore?.addPatterns('/lib/bundle/', '/lib/test/');

// Synth runs compiled JavaScript (type-checking belongs to compile and test); the launcher
// recompiles first whenever src/ changed, so a stale lib/ never yields a stale dist/.
const SYNTH = 'node scripts/run-compiled.js src/main.ts';

new YamlFile(project, 'cdk8s.yaml', {
  obj: {
    language: 'typescript',
    app: SYNTH,
    output: 'dist',
    imports: [
      `argocd-application:=${ARGO_CD_CRDS}/application-crd.yaml`,
      `argocd-appproject:=${ARGO_CD_CRDS}/appproject-crd.yaml`,
      `sealed-secrets:=${SEALED_SECRETS_CRD}`,
    ],
  },
});

project.addTask('import', {
  description: 'Generate typed Argo CD and Sealed Secrets classes into imports/ from the vendored CRDs in third_party/ (offline)',
  exec: 'cdk8s import --output imports --no-check-upgrade',
});
// Plain npm scripts rather than projen tasks: the task runner alone costs about a second per run.
project.package.setScript('synth', SYNTH);
project.package.setScript('build:image', 'node scripts/run-compiled.js src/image-build/cli.ts');
project.package.setScript('diff', 'node scripts/run-compiled.js src/diff.ts');
project.package.setScript('view', 'node scripts/run-compiled.js src/view.ts');
project.package.setScript('seal', 'node scripts/run-compiled.js src/seal.ts');
// lib/ is fresh after a compile: the synth launcher can skip its own.
project.postCompileTask.exec('node scripts/run-compiled.js --stamp');
project.addTask('test:e2e', {
  description: 'End-to-end tests on real components: registry, ko, buildah, Postgres, kube-apiserver 1.27 and the newest, a real node, helm, npm, Argo CD',
  steps: [
    { exec: 'ts-node test/e2e/image-build.ts' },
    { exec: 'ts-node test/e2e/cluster.ts' },
    { exec: 'ts-node test/e2e/api-latest.ts' },
    { exec: 'bash test/tools/cluster-smoke.sh' },
    { exec: 'ts-node test/e2e/pods.ts' },
    { exec: 'ts-node test/e2e/package.ts' },
    { exec: 'ts-node test/e2e/argocd.ts' },
    { exec: 'ts-node test/e2e/fleet.ts' },
  ],
});
// The project's replacement for kind: a single-node cluster whose pods run (root; see the README).
// `eval "$(npm run --silent cluster:up)"` sets KUBECONFIG and CLUSTER_REGISTRY.
const CLUSTER_DIR = '"${CLUSTER_DIR:-/tmp/todo-gitops-cluster}"';
const CLUSTER_TOOLS = 'eval "$(test/tools/install.sh kube node coredns crane ko debs)"';
project.package.setScript('cluster:up', `bash -c '${CLUSTER_TOOLS} && test/tools/cluster.sh up ${CLUSTER_DIR}'`);
project.package.setScript('cluster:down', `bash -c '${CLUSTER_TOOLS} && test/tools/cluster.sh down ${CLUSTER_DIR}'`);
// Too slow for .ci/run (tens of minutes on 2 cores): run by hand; the score is in the README's Tests.
// Configuration (scope, runner, concurrency, incremental file) is in stryker.config.mjs.
project.addTask('test:mutation', {
  description: 'Mutation testing of src/ with StrykerJS and the jest runner (incremental; see README)',
  exec: 'stryker run',
  receiveArgs: true,
});
project.addTask('bench', {
  description: 'Measure synth wall time and peak memory (figures go in the README)',
  exec: 'ts-node test/bench/bench.ts',
});

project.synth();
