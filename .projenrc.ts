import { javascript, typescript, YamlFile } from 'projen';

// Vendored with their provenance in third_party/README.md: the repository needs nothing beside it.
const ARGO_CD_CRDS = 'third_party/argo-cd-v3.6.1/crds';
const SEALED_SECRETS_CRD = 'third_party/sealed-secrets-v0.27.1/bitnami.com_sealedsecrets.yaml';
const CNPG_CRDS = 'third_party/cloudnative-pg-v1.30.0';

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
  // yaml reads committed trees for the diff.
  deps: ['cdk8s@^2.70.106', 'cdk8s-plus-27@^2.9.5', 'constructs@^10.8.1', 'yaml@^2.9.1'],
  // cytoscape draws the topology viewer (inlined into its page): only `view` reads it, so it is an
  // optional peer, not a 6 MB dependency of every team that only uses the constructs.
  peerDeps: ['cytoscape@^3.34.4'],
  devDeps: [
    'cdk8s-cli@2.207.60', 'ajv@^8.20.0', 'ts-node@^10.9.2',
    // Drives Debian's chromium in the viewer test (its own browser downloads cannot work here).
    'playwright-core@1.65.1',
    // Bundles the synth entry point (scripts/run-compiled.js): one file loads faster than ~150 modules.
    'esbuild@~0.28.2',
    // Mutation testing (npm run test:mutation). 9.6 is the last line that runs on Node 20; 10.x needs Node 22.
    '@stryker-mutator/core@~9.6.1', '@stryker-mutator/jest-runner@~9.6.1',
    // The API report (API.md) of the published typings.
    '@microsoft/api-extractor@~7.60.1',
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
      // A temporary directory per run, removed at its end (see test/support/jest-global-setup.ts).
      globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/jest-global-teardown.ts',
    },
  },
  sampleCode: false,
  // The generated Argo CD types live in imports/, outside src/, so the compile root is the repo.
  entrypoint: 'lib/src/index.js',
  entrypointTypes: 'lib/src/index.d.ts',
  tsconfig: {
    compilerOptions: { rootDir: '.' },
    // todo/ is this repository's GitOps tree: compiled for `npm run synth`, never packed.
    include: ['src/**/*.ts', 'imports/**/*.ts', 'todo/**/*.ts'],
  },
  tsconfigDev: {
    // The README's library example imports the package by name; tests compile it against src/.
    // skipLibCheck: playwright-core's types assume the DOM library, which this Node project does not load.
    compilerOptions: { rootDir: '..', baseUrl: '..', paths: { '@acme/cdk8s-go-postgres': ['src/index.ts'] }, skipLibCheck: true },
    include: ['src/**/*.ts', 'imports/**/*.ts', 'todo/**/*.ts', 'test/**/*.ts'],
  },
  // dist/ holds the committed GitOps tree, so npm pack output goes elsewhere.
  artifactsDirectory: 'pack',
  // Stryker's sandbox and reports (HTML, and the incremental file: large, rewritten every run) are scratch.
  gitignore: ['/.tmp/', '/pack/', '/gitops-view.html', '/.stryker-tmp/', '/reports/'],
  // The package is the library: package.json's `files` lists what it holds (see below).
  npmignoreEnabled: false,
  eslintOptions: { dirs: ['src', 'todo'], devdirs: ['test'], ignorePatterns: ['imports/', 'lib/', 'dist/', 'app/', 'node_modules/'] },
});

// eslint-import-resolver-typescript 3.9+ depends on unrs-resolver, whose per-platform bindings the
// registry here does not all serve; the lock file npm then writes is one `npm ci` rejects.
project.deps.removeDependency('eslint-import-resolver-typescript');
project.addDevDeps('eslint-import-resolver-typescript@~3.8.4');

// Resolve imports the way the tests compile them, including the README example's package import.
project.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.typescript.project', './test/tsconfig.json');

// dist/ is the committed GitOps tree that Argo CD syncs.
project.gitignore.removePatterns('/dist/');
// The package holds the compiled library (with the generated Argo CD types it uses) and the CLI's
// launcher; npm adds package.json, README.md and LICENSE. Not: this repository's todo tree (lib/todo),
// the synth bundles, tests, dist/, helm/, app/. test/e2e/package.ts asserts the list.
project.package.addField('files', ['lib/src/**/*.js', 'lib/src/**/*.d.ts', 'lib/imports/**/*.js', 'lib/imports/**/*.d.ts', 'bin/', 'third_party/sealed-secrets-v0.27.1/bitnami.com_sealedsecrets.json', 'third_party/sealed-secrets-v0.27.1/LICENSE', 'third_party/cloudnative-pg-v1.30.0/cnpg-1.30.0.json', 'third_party/cloudnative-pg-v1.30.0/LICENSE', 'third_party/plugin-barman-cloud-v0.14.0/manifest.json', 'third_party/plugin-barman-cloud-v0.14.0/LICENSE']);
project.package.addBin({ 'cdk8s-gitops': 'bin/cdk8s-gitops' });
project.package.addField('peerDependenciesMeta', { cytoscape: { optional: true } });

// This repository's commands are the library's CLI bound to its todo tree (todo/cli.ts). They run
// compiled JavaScript (type-checking belongs to compile and test); the launcher recompiles first
// whenever a source changed, so a stale lib/ never yields a stale dist/.
const CLI = 'node scripts/run-compiled.js todo/cli.ts';
const SYNTH = `${CLI} synth`;

new YamlFile(project, 'cdk8s.yaml', {
  obj: {
    language: 'typescript',
    app: SYNTH,
    output: 'dist',
    imports: [
      `argocd-application:=${ARGO_CD_CRDS}/application-crd.yaml`,
      `argocd-appproject:=${ARGO_CD_CRDS}/appproject-crd.yaml`,
      `sealed-secrets:=${SEALED_SECRETS_CRD}`,
      `cnpg-cluster:=${CNPG_CRDS}/postgresql.cnpg.io_clusters.yaml`,
      `cnpg-scheduledbackup:=${CNPG_CRDS}/postgresql.cnpg.io_scheduledbackups.yaml`,
      'barman-cloud-objectstore:=third_party/plugin-barman-cloud-v0.14.0/barmancloud.cnpg.io_objectstores.yaml',
    ],
  },
});

project.addTask('import', {
  description: 'Generate typed Argo CD, Sealed Secrets and CloudNativePG classes into imports/ from the vendored CRDs in third_party/ (offline)',
  exec: 'cdk8s import --output imports --no-check-upgrade',
});
// Plain npm scripts rather than projen tasks: the task runner alone costs about a second per run.
project.package.setScript('synth', SYNTH);
project.package.setScript('build:image', `${CLI} build-image`);
project.package.setScript('diff', `${CLI} diff`);
project.package.setScript('view', `${CLI} view`);
project.package.setScript('secrets', `${CLI} secrets`);
// lib/ is fresh after a compile: the synth launcher can skip its own.
project.postCompileTask.exec('node scripts/run-compiled.js --stamp');
project.addTask('test:e2e', {
  description: 'End-to-end tests on real components, in three lanes at once (test/e2e/run.ts): registry, ko, buildah, kaniko, docker, buildpacks, Postgres, control planes and nodes of Kubernetes v1.37.2, the Sealed Secrets controller, the live view in Chromium, CloudNativePG failover on three nodes, helm, tk, npm, Argo CD, npm run demo and demo:down',
  exec: 'node -r ./test/tools/register-ts.js test/e2e/run.ts',
  receiveArgs: true,
});
// The project's replacement for kind: a control plane and N worker nodes of Kubernetes v1.37.2 whose
// pods run (root; see the README). `eval "$(npm run --silent cluster:up -- --nodes 3)"` sets KUBECONFIG,
// CLUSTER_REGISTRY, CLUSTER_HOST_IP and CLUSTER_NODES; the arguments after `--` reach the program.
const CLUSTER_DIR = '"${CLUSTER_DIR:-/tmp/todo-gitops-cluster}"';
const CLUSTER_PROGRAM = 'eval "$(test/tools/install.sh kube cluster netpol coredns crane ko debs)" && exec node -r ./test/tools/register-ts.js test/tools/cluster/main.ts';
project.package.setScript('cluster:up', `bash -c '${CLUSTER_PROGRAM} up ${CLUSTER_DIR} "$@"' cluster`);
project.package.setScript('cluster:down', `bash -c '${CLUSTER_PROGRAM} down ${CLUSTER_DIR}'`);
// The todo service running on that cluster, synced by Argo CD from a local git server, with the live
// view (test/tools/demo/; root). State in DEMO_DIR (default /tmp/todo-gitops-demo); demo:down removes it all.
const DEMO_PROGRAM = 'node -r ./test/tools/register-ts.js test/tools/demo/main.ts';
project.package.setScript('demo', `${DEMO_PROGRAM} up`);
project.package.setScript('demo:down', `${DEMO_PROGRAM} down`);
// Too slow for .ci/run (tens of minutes on 2 cores): run by hand; the score is in the README's Tests.
// Configuration (scope, runner, concurrency, incremental file) is in stryker.config.mjs.
project.addTask('test:mutation', {
  description: 'Mutation testing of src/ with StrykerJS and the jest runner (incremental; see README)',
  exec: 'stryker run',
  receiveArgs: true,
});
// The API report: every exported symbol of the published typings, reviewed like code. `npm run api`
// rewrites API.md after a deliberate change; `npm test` fails while API.md differs from the typings.
project.addTask('api', {
  description: 'Rewrite API.md, the report of the public API, from the compiled typings',
  exec: 'node scripts/api-report.js',
});
project.testTask.exec('node scripts/api-report.js --check', { name: 'API.md equals the public API of the compiled typings' });
project.addTask('bench', {
  description: 'Measure synth wall time and peak memory, and the static view page\'s size and load time in Chromium (figures go in the README)',
  exec: 'ts-node test/bench/bench.ts',
});

project.synth();
