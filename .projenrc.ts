import { javascript, typescript, YamlFile } from 'projen';

const ARGO_CD_CRDS = '../shared/crds/argo-cd-v3.5.1';

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
  deps: ['cdk8s@^2.70.106', 'cdk8s-plus-27@^2.9.5', 'constructs@^10.8.1'],
  devDeps: [
    'cdk8s-cli@2.207.60', 'ajv@^8.20.0', 'yaml@^2.9.1', 'ts-node@^10.9.2',
  ],
  jestOptions: {
    jestVersion: '^29',
    // CI must fail on a changed snapshot instead of silently rewriting it.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
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
    compilerOptions: { rootDir: '..', baseUrl: '..', paths: { '@acme/cdk8s-go-postgres': ['src/index.ts'] } },
    include: ['src/**/*.ts', 'imports/**/*.ts', 'test/**/*.ts'],
  },
  // dist/ holds the committed GitOps tree, so npm pack output goes elsewhere.
  artifactsDirectory: 'pack',
  gitignore: ['/.tmp/', '/pack/'],
  npmignoreEnabled: true,
  npmIgnoreOptions: { ignorePatterns: ['/app/', '/helm/', '/imports/*.ts', '!/imports/*.d.ts', '/.ci/', '/images.lock.json', '/cdk8s.yaml', '/.tmp/'] },
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

new YamlFile(project, 'cdk8s.yaml', {
  obj: {
    language: 'typescript',
    app: 'npx ts-node src/main.ts',
    output: 'dist',
    imports: [
      `argocd-application:=${ARGO_CD_CRDS}/application-crd.yaml`,
      `argocd-appproject:=${ARGO_CD_CRDS}/appproject-crd.yaml`,
    ],
  },
});

project.addTask('import', {
  description: 'Generate typed Argo CD classes into imports/ from the CRDs in ../shared (offline)',
  exec: 'cdk8s import --output imports --no-check-upgrade',
});
project.addTask('synth', {
  description: 'Synthesize every environment into dist/ (atomic: a failure leaves dist/ as it was)',
  exec: 'ts-node src/main.ts',
});
project.addTask('build:image', {
  description: 'Build the app image with ko, kaniko or buildah, pin its digest in images.lock.json, re-synthesize',
  exec: 'ts-node src/build/cli.ts',
  receiveArgs: true,
});
project.addTask('test:e2e', {
  description: 'End-to-end tests on real components: registry, ko, buildah, Postgres, kube-apiserver, helm, npm',
  steps: [
    { exec: 'ts-node test/e2e/image-build.ts' },
    { exec: 'ts-node test/e2e/cluster.ts' },
    { exec: 'ts-node test/e2e/package.ts' },
  ],
});
project.addTask('bench', {
  description: 'Measure synth wall time and peak memory (figures go in the README)',
  exec: 'ts-node test/bench/bench.ts',
});

project.synth();
