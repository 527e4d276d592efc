import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject } from 'cdk8s';
import { GitOpsRepositoryProps, ValidationError } from '../../src';
import { keyByKindAndName, tankaKindKey } from '../../src/gitops/tanka-project';
import {
  SHOP_ENVIRONMENTS as ENVIRONMENTS, SHOP_LOCK as LOCK, SHOP_PROD_SERVER as REMOTE, ShopSettings as Settings, shopRepository, shopStack as stack,
} from '../support/shop-repository';
import { copyTrees, listFiles, readManifests, snapshotTree, synthLeftovers } from '../support/synth';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tanka-project-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The shop repository with a Tanka project. */
const repository = (overrides: Partial<GitOpsRepositoryProps<Settings>> = {}) => shopRepository({ tanka: {}, ...overrides });

const out = path.join(tmp, 'dist');
const helm = path.join(tmp, 'helm');
const project = path.join(tmp, 'tanka');
repository().synth({ outdir: out, helmDir: helm, lock: LOCK });
const read = (file: string) => fs.readFileSync(path.join(project, file), 'utf-8');
const spec = (env: string) => JSON.parse(read(`environments/${env}/spec.json`));
const distObjects = (env: string) => readManifests(path.join(out, env)).map(m => m.object);

describe('the Tanka project a GitOpsRepository writes', () => {
  test('goes beside the tree by default: tkrc.yaml, lib/<name>/ and one environment per directory', () => {
    expect(repository().tankaDir()).toBe('tanka');
    expect(repository().tankaDir(path.join('deploy', 'dist'))).toBe(path.join('deploy', 'tanka'));
    expect(listFiles(project).map(f => path.relative(project, f))).toEqual([
      'environments/prod/main.jsonnet', 'environments/prod/spec.json', 'environments/staging/main.jsonnet', 'environments/staging/spec.json',
      'lib/shop/overrides.libsonnet', 'lib/shop/prod.json', 'lib/shop/staging.json', 'tkrc.yaml',
    ]);
  });

  test('each environment\'s objects are those of dist/<env>, keyed by kind and name, each exactly once', () => {
    for (const env of ENVIRONMENTS) {
      const keyed = JSON.parse(read(`lib/shop/${env.name}.json`));
      const flattened = Object.values(keyed).flatMap(byName => Object.values(byName as Record<string, unknown>));
      const dist = distObjects(env.name);
      expect(flattened).toHaveLength(dist.length);
      expect(flattened).toEqual(expect.arrayContaining(dist));
      expect(keyed.deployments.shop.spec.replicas).toBe(env.settings.replicas);
      expect(keyed.statefulSets['shop-db'].kind).toBe('StatefulSet');
      expect(keyed.networkPolicies.shop.kind).toBe('NetworkPolicy');
      // Sorted, so a change of object order in the stack does not reorder the file.
      expect(Object.keys(keyed)).toEqual([...Object.keys(keyed)].sort());
    }
  });

  test('spec.json: namespace, server-side apply and diff, injected labels; prod connects to its server, staging by context', () => {
    expect(spec('prod')).toEqual({
      apiVersion: 'tanka.dev/v1alpha1',
      kind: 'Environment',
      metadata: { name: 'environments/prod' },
      spec: {
        apiServer: REMOTE, namespace: 'shop', applyStrategy: 'server', diffStrategy: 'server', injectLabels: true, resourceDefaults: {}, expectVersions: {},
      },
    });
    expect(spec('staging').spec.contextNames).toEqual(['staging']);
    expect(spec('staging').spec.apiServer).toBeUndefined();
    expect(spec('staging').spec.namespace).toBe('shop-staging');
  });

  test('apiServer and contextNames per environment replace the defaults', () => {
    const dir = path.join(tmp, 'connections');
    repository({ helmChart: undefined, tanka: { environments: { staging: { apiServer: 'https://staging.k8s.acme.example' }, prod: { contextNames: ['prod-eu', 'prod'] } } } })
      .synth({ outdir: path.join(dir, 'dist'), lock: LOCK });
    const specOf = (env: string) => JSON.parse(fs.readFileSync(path.join(dir, 'tanka', 'environments', env, 'spec.json'), 'utf-8')).spec;
    expect(specOf('staging')).toMatchObject({ apiServer: 'https://staging.k8s.acme.example' });
    expect(specOf('prod')).toMatchObject({ contextNames: ['prod-eu', 'prod'] });
    expect(specOf('prod').apiServer).toBeUndefined();
  });

  test('main.jsonnet imports the environment\'s objects and shows how to override them', () => {
    const main = read('environments/prod/main.jsonnet');
    expect(main.trim().split('\n').pop()).toBe('import \'shop/prod.json\'');
    expect(main).toContain('(import \'shop/prod.json\') + { deployments+: { shop+: { spec+: { replicas: 5 } } } }');
  });

  test('lib/<name>/overrides.libsonnet offers replicas, image and resources, with examples from the stack', () => {
    const lib = read('lib/shop/overrides.libsonnet');
    for (const helper of ['replicas(name, count, kind=\'deployments\')::', 'image(name, containerName, image, kind=\'deployments\')::',
      'resources(name, containerName, patch, kind=\'deployments\')::']) {
      expect(lib).toContain(helper);
    }
    expect(lib).toContain('//   + o.image(\'shop\', \'app\', \'registry.example/image@sha256:...\')');
  });

  test('a stack without workloads gets placeholder examples', () => {
    const dir = path.join(tmp, 'no-workloads');
    repository({ helmChart: undefined, stack: c => { new ApiObject(c, 'Settings', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: 'b' } }); } })
      .synth({ outdir: path.join(dir, 'dist'), lock: LOCK });
    expect(fs.readFileSync(path.join(dir, 'tanka', 'lib', 'shop', 'overrides.libsonnet'), 'utf-8')).toContain('//   + o.replicas(\'my-app\', 5)');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'tanka', 'lib', 'shop', 'prod.json'), 'utf-8')).configMaps.settings.data).toEqual({ a: 'b' });
  });

  test('a directory of the options; synth is deterministic', () => {
    const dir = path.join(tmp, 'custom');
    repository({ tanka: { directory: 'deploy/jsonnet' } }).synth({ outdir: path.join(dir, 'dist'), helmDir: path.join(dir, 'helm'), lock: LOCK });
    expect(snapshotTree(path.join(dir, 'deploy', 'jsonnet'))).toEqual(snapshotTree(project));
  });

  test('kinds are keyed in lower camel case plural, like the Helm chart\'s values', () => {
    expect(['Deployment', 'StatefulSet', 'NetworkPolicy', 'Ingress', 'PodDisruptionBudget', 'ConfigMap', 'Endpoints', 'HorizontalPodAutoscaler', 'Gateway']
      .map(tankaKindKey)).toEqual(['deployments', 'statefulSets', 'networkPolicies', 'ingresses', 'podDisruptionBudgets', 'configMaps', 'endpointses', 'horizontalPodAutoscalers', 'gateways']);
  });

  test('two objects with one kind key and name are refused, naming both', () => {
    expect(() => keyByKindAndName([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'x' } },
    ])).toThrow('two objects have the key deployments["a"] (apps/v1 Deployment x/a and example.com/v1 Deployment x/a): give one of them another name');
  });
});

describe('bad Tanka options fail before anything is written', () => {
  const CASES: Array<[string, GitOpsRepositoryProps<Settings>['tanka'], RegExp]> = [
    ['an absolute directory', { directory: '/srv/tanka' }, /^GitOpsRepository shop: tanka.directory "\/srv\/tanka" must be a relative path inside the repository, like "tanka"/],
    ['a directory outside the repository', { directory: '../tanka' }, /tanka.directory "\.\.\/tanka" must be a relative path inside the repository/],
    ['an empty directory', { directory: '' }, /tanka.directory "" must be a relative path/],
    ['the repository root', { directory: './' }, /tanka.directory "\.\/" must be a relative path/],
    ['the manifests directory', { directory: 'dist' }, /tanka.directory "dist" overlaps manifestsPath "dist": Argo CD reads every .json there as a manifest/],
    ['inside the manifests directory', { directory: 'dist/tanka' }, /tanka.directory "dist\/tanka" overlaps manifestsPath "dist"/],
    ['an unknown environment', { environments: { qa: { contextNames: ['qa'] } } }, /tanka.environments.qa: "qa" is not one of the environments \(staging, prod\)/],
    ['both apiServer and contextNames', { environments: { prod: { apiServer: REMOTE, contextNames: ['prod'] } } },
      /tanka.environments.prod: both apiServer "https:\/\/prod.k8s.acme.example:6443" and contextNames \["prod"\] are set: tk connects by one of them, remove the other/],
    ['an apiServer that is not a URL', { environments: { prod: { apiServer: 'prod.k8s.acme.example' } } },
      /tanka.environments.prod.apiServer "prod.k8s.acme.example" is not an http\(s\) URL like https:\/\/prod.k8s.example:6443/],
    ['empty contextNames', { environments: { staging: { contextNames: [] } } }, /tanka.environments.staging.contextNames is empty: name at least one kubeconfig context/],
    ['a blank context name', { environments: { staging: { contextNames: ['staging', ' '] } } }, /tanka.environments.staging.contextNames\[1\] " " is not a kubeconfig context name/],
  ];

  test.each(CASES)('%s', (_what, tanka, message) => {
    let error: unknown;
    try {
      repository({ tanka });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  });

  test('a directory that overlaps a custom manifestsPath', () => {
    expect(() => repository({ manifestsPath: 'deploy/generated', tanka: { directory: 'deploy' } }))
      .toThrow(/tanka.directory "deploy" overlaps manifestsPath "deploy\/generated"/);
  });
});

describe('a failure leaves the tree, the chart and the Tanka project byte-identical', () => {
  const prepare = (name: string) => {
    const dir = path.join(tmp, name);
    const before = copyTrees(dir, { dist: out, helm, tanka: project });
    return { dir, outdir: path.join(dir, 'dist'), helmDir: path.join(dir, 'helm'), before };
  };
  const leftovers = synthLeftovers;

  test('a stack that throws', () => {
    const t = prepare('stack-throws');
    expect(Object.keys(t.before)).toContain('tanka/lib/shop/prod.json');
    const failing = repository({ stack: (c, env, lock) => { if (env.name === 'prod') throw new Error('prod stack failed'); stack(c, env, lock); } });
    expect(() => failing.synth({ outdir: t.outdir, helmDir: t.helmDir, lock: LOCK })).toThrow('prod stack failed');
    expect(snapshotTree(t.dir)).toEqual(t.before);
    expect(leftovers(t.dir)).toEqual([]);
  });

  test('two objects Tanka cannot key apart: a ValidationError, after the tree and the chart were staged', () => {
    const t = prepare('key-collision');
    const clashing = repository({
      stack: (c, env, lock) => {
        stack(c, env, lock);
        if (env.name === 'prod') new ApiObject(c, 'Clash', { apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'shop' } });
      },
    });
    let error: unknown;
    try {
      clashing.synth({ outdir: t.outdir, helmDir: t.helmDir, lock: LOCK });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('GitOpsRepository shop: tanka: environment prod: two objects have the key deployments["shop"] '
      + '(apps/v1 Deployment shop/shop and example.com/v1 Deployment shop/shop): give one of them another name');
    expect(snapshotTree(t.dir)).toEqual(t.before);
    expect(leftovers(t.dir)).toEqual([]);
  });

  test('a Tanka directory that cannot be created, after the tree and the chart were staged', () => {
    const t = prepare('tanka-fails');
    fs.writeFileSync(path.join(t.dir, 'not-a-directory'), '');
    const before = snapshotTree(t.dir);
    expect(() => repository().synth({ outdir: t.outdir, helmDir: t.helmDir, tankaDir: path.join(t.dir, 'not-a-directory', 'tanka'), lock: LOCK })).toThrow(/ENOTDIR/);
    expect(snapshotTree(t.dir)).toEqual(before);
    expect(leftovers(t.dir)).toEqual([]);
  });

  test('an install that fails at the Tanka project moves dist/ and the chart back', () => {
    const t = prepare('install-fails');
    fs.mkdirSync(path.join(t.dir, `tanka.old-${process.pid}`, 'blocker'), { recursive: true });
    const before = snapshotTree(t.dir);
    expect(() => repository({ environments: [ENVIRONMENTS[0]] }).synth({ outdir: t.outdir, helmDir: t.helmDir, lock: LOCK })).toThrow(/ENOTEMPTY|EEXIST/);
    expect(snapshotTree(t.dir)).toEqual(before);
    expect(leftovers(t.dir).filter(f => f !== `tanka.old-${process.pid}`)).toEqual([]);
  });
});
