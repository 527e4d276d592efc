import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject } from 'cdk8s';
import * as YAML from 'yaml';
import { FleetClusters, GitOpsRepositoryProps, IN_CLUSTER, ValidationError } from '../../src';
import { digestOf } from '../support/fixtures';
import { SchemaValidator } from '../support/schema';
import {
  SHOP_ENVIRONMENTS as ENVIRONMENTS, SHOP_LOCK as LOCK, SHOP_PROD_SERVER as REMOTE, ShopSettings as Settings,
  shopRepository as repository, shopStack as stack,
} from '../support/shop-repository';
import { copyTrees, listFiles, readManifests, snapshotTree, synthLeftovers } from '../support/synth';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-repository-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const out = path.join(tmp, 'dist');
const helm = path.join(tmp, 'helm');
repository().synth({ outdir: out, helmDir: helm, lock: LOCK });
const manifests = readManifests(out);
const objects = (dir: string) => manifests.filter(m => m.file.startsWith(`${dir}/`)).map(m => m.object);
const find = (dir: string, kind: string, name?: string) =>
  objects(dir).find(o => o.kind === kind && (name === undefined || o.metadata.name === name));

describe('the tree a GitOpsRepository writes', () => {
  test('one directory per environment, apps/ and bootstrap/, one file each', () => {
    expect(listFiles(out).map(f => path.relative(out, f))).toEqual([
      'apps/applications.k8s.yaml', 'bootstrap/root.k8s.yaml', 'prod/shop-prod.k8s.yaml', 'staging/shop-staging.k8s.yaml',
    ]);
  });

  test('an environment holds its stack, in its namespace, labelled with its name', () => {
    for (const env of ENVIRONMENTS) {
      const objs = objects(env.name);
      expect(objs.map(o => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet', 'NetworkPolicy']));
      for (const o of objs) {
        expect(o.metadata.namespace).toBe(env.namespace);
        expect(o.metadata.labels['acme.io/environment']).toBe(env.name);
      }
      expect(find(env.name, 'Deployment').spec.replicas).toBe(env.settings.replicas);
    }
  });

  test('every object is schema-valid', () => {
    const schema = new SchemaValidator();
    expect(manifests.flatMap(m => schema.errors(m.object))).toEqual([]);
  });

  test('an Application per environment syncs its directory to its cluster and namespace', () => {
    const apps = objects('apps').filter(o => o.kind === 'Application');
    expect(apps.map(a => a.metadata.name)).toEqual(['shop-staging', 'shop-prod']);
    for (const [app, env] of apps.map((a, i) => [a, ENVIRONMENTS[i]] as const)) {
      expect(app.metadata.namespace).toBe('argocd');
      expect(app.spec.project).toBe('shop');
      // No `directory: {recurse: false}`: Argo CD strips it, and the root app would never be Synced.
      expect(app.spec.source).toEqual({ repoURL: 'https://git.acme.example/shop/gitops.git', targetRevision: 'release', path: `dist/${env.name}` });
      expect(app.spec.destination).toEqual({ server: env.server ?? IN_CLUSTER, namespace: env.namespace });
    }
  });

  test('Applications sync automatically with prune, self-heal, retries and restricted namespaces', () => {
    for (const app of objects('apps').filter(o => o.kind === 'Application')) {
      expect(app.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io/foreground']);
      expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(app.spec.syncPolicy.syncOptions).toEqual(['CreateNamespace=true', 'ServerSideApply=true', 'PruneLast=true']);
      expect(app.spec.syncPolicy.retry).toEqual({ limit: 5, refresh: true, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } });
      expect(app.spec.syncPolicy.managedNamespaceMetadata.labels).toEqual({
        'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted',
      });
    }
  });

  test('the AppProject admits only this repository, the environments and the Namespace kind', () => {
    const project = find('apps', 'AppProject', 'shop');
    expect(project.metadata.namespace).toBe('argocd');
    expect(project.spec.sourceRepos).toEqual(['https://git.acme.example/shop/gitops.git']);
    expect(project.spec.destinations).toEqual([{ server: IN_CLUSTER, namespace: 'shop-staging' }, { server: REMOTE, namespace: 'shop' }]);
    expect(project.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
  });

  test('the AppProject reports objects not in git as orphaned, except the Secrets the stacks use but leave out of git', () => {
    expect(find('apps', 'AppProject', 'shop').spec.orphanedResources).toEqual({ warn: true, ignore: [{ group: '', kind: 'Secret', name: 'shop-db-login' }] });
  });

  test('the root app syncs apps/ into Argo CD\'s namespace without creating it', () => {
    const root = find('bootstrap', 'Application');
    expect(root.metadata.name).toBe('shop-root');
    expect(root.spec.source.path).toBe('dist/apps');
    expect(root.spec.destination.namespace).toBe('argocd');
    expect(root.spec.syncPolicy.syncOptions).not.toContain('CreateNamespace=true');
  });

  test('manifestsPath and argoCdNamespace move the Applications', () => {
    const moved = path.join(tmp, 'moved');
    repository({ manifestsPath: 'deploy/generated', argoCdNamespace: 'gitops', helmChart: undefined }).synth({ outdir: moved, lock: LOCK });
    const apps = readManifests(moved).map(m => m.object).filter(o => o.kind === 'Application');
    expect(apps.map(a => [a.metadata.namespace, a.spec.source.path])).toEqual([
      ['gitops', 'deploy/generated/staging'], ['gitops', 'deploy/generated/prod'], ['gitops', 'deploy/generated/apps'],
    ]);
  });

  test('synth is deterministic', () => {
    const again = path.join(tmp, 'again');
    repository().synth({ outdir: again, helmDir: path.join(tmp, 'helm-again'), lock: LOCK });
    expect(snapshotTree(again)).toEqual(snapshotTree(out));
    expect(snapshotTree(path.join(tmp, 'helm-again'))).toEqual(snapshotTree(helm));
  });
});

describe('the Helm chart', () => {
  const chart = YAML.parse(fs.readFileSync(path.join(helm, 'Chart.yaml'), 'utf-8'));
  const values = (env: string) => YAML.parse(fs.readFileSync(path.join(helm, `values-${env}.yaml`), 'utf-8'));

  test('is named after the repository and holds a template and values per environment', () => {
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'shop', version: '0.1.0' });
    expect(listFiles(helm).map(f => path.relative(helm, f))).toEqual([
      '.helmignore', 'Chart.yaml', 'templates/prod.yaml', 'templates/staging.yaml', 'values-prod.yaml', 'values-staging.yaml', 'values.yaml',
    ]);
  });

  test('values carry each environment\'s namespace, replicas, images, resources and storage', () => {
    const prod = values('prod');
    expect(prod.environment).toBe('prod');
    expect(prod.namespace).toBe('shop');
    expect(prod.deployments.shop.replicas).toBe(3);
    expect(prod.deployments.shop.containers.app.image).toBe(`ghcr.io/acme/api@${digestOf('api')}`);
    expect(prod.deployments.shop.containers.app.resources.limits.memory).toBe('256Mi');
    expect(prod.statefulSets['shop-db'].storage.data).toBe('1Gi');
    expect(values('staging').deployments.shop.replicas).toBe(1);
  });

  test('values.yaml is the last environment\'s unless another is named', () => {
    expect(fs.readFileSync(path.join(helm, 'values.yaml'), 'utf-8')).toBe(fs.readFileSync(path.join(helm, 'values-prod.yaml'), 'utf-8'));
    const other = path.join(tmp, 'helm-default');
    repository({ helmChart: { name: 'shop-chart', defaultEnvironment: 'staging' } }).synth({ outdir: path.join(tmp, 'dist-default'), helmDir: other, lock: LOCK });
    expect(YAML.parse(fs.readFileSync(path.join(other, 'values.yaml'), 'utf-8')).environment).toBe('staging');
    expect(YAML.parse(fs.readFileSync(path.join(other, 'Chart.yaml'), 'utf-8')).name).toBe('shop-chart');
  });

  test('templates select their environment and take values, and a literal {{ stays literal', () => {
    const withBraces = path.join(tmp, 'helm-braces');
    repository({
      stack: (c, env, lock) => {
        stack(c, env, lock);
        new ApiObject(c, 'Note', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'note' }, data: { template: 'Hello {{ .Name }}' } });
      },
    }).synth({ outdir: path.join(tmp, 'dist-braces'), helmDir: withBraces, lock: LOCK });
    const template = fs.readFileSync(path.join(withBraces, 'templates', 'prod.yaml'), 'utf-8');
    expect(template.split('\n')[0]).toBe('{{- if eq .Values.environment "prod" }}');
    expect(template).toContain('namespace: {{ .Values.namespace | toJson }}');
    expect(template).toContain('image: {{ .Values.deployments.shop.containers.app.image | toJson }}');
    expect(template).toContain('storage: {{ index .Values "statefulSets" "shop-db" "storage" "data" | toJson }}');
    expect(template).toContain('template: Hello {{ "{{" }} .Name }}');
  });
});

describe('a fleet: with clusters, one ApplicationSet deploys every environment to its clusters', () => {
  const fleetOut = path.join(tmp, 'fleet');
  const fleetEnvironments = ENVIRONMENTS.map(({ server: _server, ...env }) => env);
  repository({ environments: fleetEnvironments, clusters: FleetClusters.fromLabel('acme.io/environment'), helmChart: undefined }).synth({ outdir: fleetOut, lock: LOCK });
  const fleet = readManifests(fleetOut).map(m => m.object);

  test('apps/ holds the AppProject and one ApplicationSet instead of an Application per environment', () => {
    expect(fleet.filter(o => o.metadata.namespace === 'argocd').map(o => `${o.kind}/${o.metadata.name}`))
      .toEqual(['AppProject/shop', 'ApplicationSet/shop', 'Application/shop-root']);
    const set = fleet.find(o => o.kind === 'ApplicationSet');
    expect(set.spec.generators.map((g: any) => [g.clusters.selector.matchLabels, g.clusters.values])).toEqual([
      [{ 'acme.io/environment': 'staging' }, { environment: 'staging', path: 'dist/staging', namespace: 'shop-staging' }],
      [{ 'acme.io/environment': 'prod' }, { environment: 'prod', path: 'dist/prod', namespace: 'shop' }],
    ]);
    expect(set.spec.template.spec).toMatchObject({ project: 'shop', source: { repoURL: 'https://git.acme.example/shop/gitops.git', targetRevision: 'release', path: '{{.values.path}}' } });
  });

  test('the AppProject admits the environments\' namespaces on any cluster the ApplicationSet selects', () => {
    expect(fleet.find(o => o.kind === 'AppProject').spec.destinations).toEqual([{ server: '*', namespace: 'shop-staging' }, { server: '*', namespace: 'shop' }]);
  });

  test('the environments\' directories are those of the single-cluster tree', () => {
    for (const env of ENVIRONMENTS) expect(snapshotTree(path.join(fleetOut, env.name))).toEqual(snapshotTree(path.join(out, env.name)));
  });

  test('an environment with a server is refused: the clusters decide', () => {
    expect(() => repository({ clusters: FleetClusters.fromLabel('acme.io/environment') }))
      .toThrow(/^GitOpsRepository shop: environments\[1\]: server "https:\/\/prod\.k8s\.acme\.example:6443" is set, but the repository's clusters decide where environments go/);
  });

  test('environments may share a namespace name: each cluster runs one environment', () => {
    expect(() => repository({ environments: fleetEnvironments.map(e => ({ ...e, namespace: 'shop' })), clusters: FleetClusters.fromLabel('acme.io/environment') })).not.toThrow();
  });
});

describe('bad input fails before anything is written', () => {
  const CASES: Array<[string, Partial<GitOpsRepositoryProps<Settings>>, RegExp]> = [
    ['an upper-case name', { name: 'Shop' }, /^GitOpsRepository Shop: name "Shop" is not a DNS label/],
    ['no environments', { environments: [] }, /environments is empty/],
    ['a reserved environment name', { environments: [{ ...ENVIRONMENTS[0], name: 'apps' }] }, /environments\[0\]: name "apps" must be a lower-case DNS label other than apps and bootstrap/],
    ['an environment name that is not a DNS label', { environments: [{ ...ENVIRONMENTS[0], name: 'Prod_1' }] }, /environments\[0\]: name "Prod_1"/],
    ['a duplicate environment name', { environments: [ENVIRONMENTS[0], { ...ENVIRONMENTS[0], namespace: 'other' }] }, /environments\[1\]: name "staging" is used by an earlier environment/],
    ['a duplicate namespace on one cluster', { environments: [ENVIRONMENTS[0], { ...ENVIRONMENTS[0], name: 'qa' }] }, /environments\[1\]: namespace "shop-staging" is used by an earlier environment/],
    ['an Application name over 63 characters', { environments: [{ ...ENVIRONMENTS[0], name: 'e'.repeat(60) }] }, /makes the Application name "shop-e+" longer than 63 characters/],
    ['a Helm default environment that does not exist', { helmChart: { defaultEnvironment: 'qa' } }, /helmChart.defaultEnvironment "qa" is not one of the environments \(staging, prod\)/],
  ];

  test.each(CASES)('%s', (_what, overrides, message) => {
    let error: unknown;
    try {
      repository(overrides);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  });

  test('the same namespace on two clusters is fine', () => {
    expect(() => repository({ environments: [ENVIRONMENTS[0], { ...ENVIRONMENTS[1], namespace: 'shop-staging' }] })).not.toThrow();
  });

  test('a bad repository URL names the Application construct', () => {
    expect(() => repository({ repoUrl: 'not a url' }).synth({ outdir: path.join(tmp, 'never'), helmDir: path.join(tmp, 'never-helm'), lock: LOCK }))
      .toThrow(/^applications\/shop: repoUrl "not a url" is not a git URL/);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'never-helm'))).toBe(false);
  });
});

describe('a failure leaves the tree and the chart byte-identical', () => {
  const prepare = (name: string) => {
    const dir = path.join(tmp, name);
    const before = copyTrees(dir, { dist: out, helm });
    return { dir, outdir: path.join(dir, 'dist'), helmDir: path.join(dir, 'helm'), before };
  };
  const leftovers = synthLeftovers;

  test('a stack that throws', () => {
    const t = prepare('stack-throws');
    const failing = repository({ stack: (c, env, lock) => { if (env.name === 'prod') throw new Error('prod stack failed'); stack(c, env, lock); } });
    expect(() => failing.synth({ outdir: t.outdir, helmDir: t.helmDir, lock: LOCK })).toThrow('prod stack failed');
    expect(snapshotTree(t.dir)).toEqual(t.before);
    expect(leftovers(t.dir)).toEqual([]);
  });

  test('a failure while the files are being written', () => {
    const t = prepare('write-fails');
    // A value YAML cannot represent: found while writing prod, after staging's file is written.
    const failing = repository({
      stack: (c, env, lock) => {
        stack(c, env, lock);
        if (env.name === 'prod') new ApiObject(c, 'Bad', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad' }, data: { ratio: Number.NaN as any } });
      },
    });
    expect(() => failing.synth({ outdir: t.outdir, helmDir: t.helmDir, lock: LOCK })).toThrow(/data\.ratio/);
    expect(snapshotTree(t.dir)).toEqual(t.before);
    expect(leftovers(t.dir)).toEqual([]);
  });

  test('a Helm directory that cannot be created, after the tree was staged', () => {
    const t = prepare('helm-fails');
    fs.writeFileSync(path.join(t.dir, 'not-a-directory'), '');
    const before = snapshotTree(t.dir);
    expect(() => repository().synth({ outdir: t.outdir, helmDir: path.join(t.dir, 'not-a-directory', 'chart'), lock: LOCK })).toThrow(/ENOTDIR/);
    expect(snapshotTree(t.dir)).toEqual(before);
    expect(leftovers(t.dir)).toEqual([]);
  });

  test('staged output installs with files of the caller, or is discarded', () => {
    const t = prepare('staged');
    const extra = { staged: path.join(t.dir, 'lock.new'), target: path.join(t.dir, 'lock.json') };
    fs.writeFileSync(extra.staged, '{}\n');
    const staged = repository({ environments: [ENVIRONMENTS[0]] }).stage({ outdir: t.outdir, helmDir: t.helmDir, lock: LOCK });
    expect(snapshotTree(t.dir)).toEqual({ ...t.before, ...prefixed(staged.paths[0].staged, t.dir), ...prefixed(staged.paths[1].staged, t.dir), 'lock.new': '{}\n' });
    staged.install([extra]);
    staged.discard();
    expect(fs.readdirSync(t.outdir)).toEqual(['apps', 'bootstrap', 'staging']);
    expect(fs.readFileSync(extra.target, 'utf-8')).toBe('{}\n');
    expect(leftovers(t.dir)).toEqual([]);
  });
});

/** The files of `dir` keyed by their path relative to `root`. */
function prefixed(dir: string, root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshotTree(dir)).map(([f, c]) => [path.join(path.relative(root, dir), f), c]));
}
