import { Chart, Testing } from 'cdk8s';
import {
  ArgoCdApplication, ArgoCdApplicationSet, ArgoCdApplicationSetProps, ArgoCdProject, FleetClusters, FleetEnvironment,
  ValidationError,
} from '../src';
import { SchemaValidator } from './support/schema';
import { RESOURCES_FINALIZER } from '../src/argocd/application';
import { RESTRICTED_NAMESPACE_LABELS } from '../src/argocd/sync-options';

const REPO = 'https://git.acme.example/shop/gitops.git';
const ENVIRONMENTS: FleetEnvironment[] = [
  { name: 'staging', path: 'dist/staging', namespace: 'shop-staging' },
  { name: 'prod', path: 'dist/prod', namespace: 'shop' },
];
const EAST = 'https://east.k8s.acme.example:6443';
const WEST = 'https://west.k8s.acme.example:6443';

function synth(props: Partial<ArgoCdApplicationSetProps> = {}): any {
  const chart = new Chart(Testing.app(), 'test');
  new ArgoCdApplicationSet(chart, 'shop', { repoUrl: REPO, environments: ENVIRONMENTS, clusters: FleetClusters.fromLabel('acme.io/environment'), ...props });
  const objects = chart.toJson();
  expect(objects).toHaveLength(1);
  return objects[0];
}

/**
 * What the applicationset-controller does with one parameter set under
 * goTemplate: replaces every `{{.a.b}}` with that parameter, failing on a
 * missing one (missingkey=error). Only the expressions the construct writes.
 */
function render(template: unknown, params: Record<string, any>): any {
  return JSON.parse(JSON.stringify(template), (_key, value) => typeof value !== 'string' ? value
    : value.replace(/\{\{\.([A-Za-z.]+)\}\}/g, (_m, p: string) => {
      const v = p.split('.').reduce((o: any, k) => o?.[k], params);
      if (typeof v !== 'string') throw new Error(`template parameter .${p} is missing`);
      return v;
    }));
}

interface RegisteredCluster { name: string; server: string; labels: Record<string, string> }

/** The parameter sets of the generators for the clusters `registered` in Argo CD. */
function parameterSets(set: any, registered: RegisteredCluster[]): any[] {
  return set.spec.generators.flatMap((g: any) => {
    if (g.list) return g.list.elements;
    const wanted = Object.entries<string>(g.clusters.selector.matchLabels);
    return registered.filter(c => wanted.every(([k, v]) => c.labels[k] === v))
      .map(c => ({ name: c.name, nameNormalized: c.name, server: c.server, values: g.clusters.values }));
  });
}

describe('ArgoCdApplicationSet: one Application per cluster and environment', () => {
  const schema = new SchemaValidator();

  test('fromLabel: one cluster generator per environment, selecting clusters by their Secret label', () => {
    const set = synth();
    expect(set).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', metadata: { name: 'shop', namespace: 'argocd' } });
    expect(set.spec.generators).toEqual([
      { clusters: { selector: { matchLabels: { 'acme.io/environment': 'staging' } }, values: { environment: 'staging', path: 'dist/staging', namespace: 'shop-staging' } } },
      { clusters: { selector: { matchLabels: { 'acme.io/environment': 'prod' } }, values: { environment: 'prod', path: 'dist/prod', namespace: 'shop' } } },
    ]);
    expect(set.spec.goTemplate).toBe(true);
    expect(set.spec.goTemplateOptions).toEqual(['missingkey=error']);
    // No resources finalizer: a cluster leaving the fleet must not delete what it runs.
    expect(set.spec.template.metadata).toEqual({ name: 'shop-{{.values.environment}}-{{.nameNormalized}}' });
    expect(set.spec.syncPolicy).toEqual({ preserveResourcesOnDeletion: true });
  });

  test('the ApplicationSet is valid against the vendored ApplicationSet CRD schema (unknown fields rejected)', () => {
    expect(schema.errors(synth())).toEqual([]);
    expect(schema.errors(synth({ clusters: FleetClusters.fromList([{ name: 'east', server: EAST, environment: 'prod' }]) }))).toEqual([]);
    const typo = synth();
    typo.spec.template.spec.source.repoUrl = REPO; // the generated types' camelCase, which the API drops
    expect(schema.errors(typo).join('\n')).toMatch(/additional properties.*repoUrl/);
  }, 30_000);

  test('each generated Application is the Application ArgoCdApplication writes for that cluster and environment', () => {
    const set = synth({ project: ArgoCdProject.fromName('shop'), targetRevision: 'release' });
    const registered: RegisteredCluster[] = [
      { name: 'east', server: EAST, labels: { 'acme.io/environment': 'prod' } },
      { name: 'west', server: WEST, labels: { 'acme.io/environment': 'prod' } },
      { name: 'qa', server: 'https://qa.k8s.acme.example', labels: { 'acme.io/environment': 'staging' } },
      { name: 'lab', server: 'https://lab.k8s.acme.example', labels: { team: 'shop' } },
    ];
    const generated = parameterSets(set, registered).map(p => render(set.spec.template, p));
    expect(generated.map(a => a.metadata.name)).toEqual(['shop-staging-qa', 'shop-prod-east', 'shop-prod-west']);

    for (const app of generated) {
      const [, env, cluster] = /^shop-(staging|prod)-(\w+)$/.exec(app.metadata.name)!;
      const chart = new Chart(Testing.app(), 'single');
      new ArgoCdApplication(chart, app.metadata.name, {
        repoUrl: REPO,
        targetRevision: 'release',
        project: ArgoCdProject.fromName('shop'),
        path: `dist/${env}`,
        destinationNamespace: ENVIRONMENTS.find(e => e.name === env)!.namespace,
        destinationServer: registered.find(c => c.name === cluster)!.server,
      });
      const single = chart.toJson()[0];
      expect(app.spec).toEqual(single.spec);
    }
    expect(generated[0].spec.syncPolicy).toMatchObject({
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true', 'ServerSideApply=true', 'PruneLast=true'],
      managedNamespaceMetadata: { labels: RESTRICTED_NAMESPACE_LABELS },
    });
  });

  test('fromList: one list generator whose elements carry the cluster and its environment', () => {
    const set = synth({
      applicationPrefix: 'web',
      clusters: FleetClusters.fromList([
        { name: 'east', server: EAST, environment: 'prod' },
        { name: 'qa', server: 'https://qa.k8s.acme.example', environment: 'staging' },
      ]),
    });
    expect(set.spec.generators).toEqual([{
      list: {
        elements: [
          { name: 'east', nameNormalized: 'east', server: EAST, values: { environment: 'prod', path: 'dist/prod', namespace: 'shop' } },
          { name: 'qa', nameNormalized: 'qa', server: 'https://qa.k8s.acme.example', values: { environment: 'staging', path: 'dist/staging', namespace: 'shop-staging' } },
        ],
      },
    }]);
    const apps = parameterSets(set, []).map(p => render(set.spec.template, p));
    expect(apps.map(a => [a.metadata.name, a.spec.destination])).toEqual([
      ['web-prod-east', { server: EAST, namespace: 'shop' }],
      ['web-staging-qa', { server: 'https://qa.k8s.acme.example', namespace: 'shop-staging' }],
    ]);
  });

  test('cascadeDelete: deleting a generated Application (or the set) deletes what it deployed', () => {
    const set = synth({ cascadeDelete: true });
    expect(set.spec.template.metadata.finalizers).toEqual([RESOURCES_FINALIZER]);
    expect(set.spec.syncPolicy).toEqual({ preserveResourcesOnDeletion: false });
  });

  test('sync settings are those of ArgoCdApplication', () => {
    const set = synth({ automatedSync: false, retryLimit: 2, argoCdNamespace: 'gitops' });
    expect(set.metadata.namespace).toBe('gitops');
    expect(set.spec.template.spec.syncPolicy.automated).toBeUndefined();
    expect(set.spec.template.spec.syncPolicy.retry.limit).toBe(2);
  });

  test.each<[string, Partial<ArgoCdApplicationSetProps>, RegExp]>([
    ['no environments', { environments: [] }, /^test\/shop: environments is empty/],
    ['an environment twice', { environments: [ENVIRONMENTS[0], ENVIRONMENTS[0]] }, /^test\/shop: environments\[1\]: environment "staging" is listed twice/],
    ['a bad environment name', { environments: [{ ...ENVIRONMENTS[0], name: 'Staging' }] }, /^test\/shop: environments\[0\]\.name "Staging" is not a valid DNS-1123 label/],
    ['a bad namespace', { environments: [{ ...ENVIRONMENTS[0], namespace: 'shop_staging' }] }, /environments\[0\]\.namespace "shop_staging" is not a valid DNS-1123 label/],
    ['a path out of the repository', { environments: [{ ...ENVIRONMENTS[0], path: '../dist' }] }, /path "\.\.\/dist" must be a non-empty path relative to the repository root/],
    ['a bad label key', { clusters: FleetClusters.fromLabel('acme.io/env ironment') }, /^test\/shop: clusters label "acme\.io\/env ironment" is not a label key/],
    ['an empty cluster list', { clusters: FleetClusters.fromList([]) }, /clusters is an empty list/],
    ['a cluster twice', { clusters: FleetClusters.fromList([{ name: 'east', server: EAST, environment: 'prod' }, { name: 'east', server: WEST, environment: 'prod' }]) }, /clusters\[1\]: cluster name "east" is listed twice/],
    ['a bad cluster name', { clusters: FleetClusters.fromList([{ name: 'East', server: EAST, environment: 'prod' }]) }, /clusters\[0\]\.name "East" is not a valid DNS-1123 label/],
    ['an http server', { clusters: FleetClusters.fromList([{ name: 'east', server: 'http://east:6443', environment: 'prod' }]) }, /clusters\[0\]: server "http:\/\/east:6443" is not an https:\/\/ API server URL/],
    ['an unknown environment', { clusters: FleetClusters.fromList([{ name: 'east', server: EAST, environment: 'qa' }]) }, /clusters\[0\]: environment "qa" is not one of the environments \(staging, prod\)/],
    ['a bad repoUrl', { repoUrl: 'github.com/acme/shop' }, /^test\/shop: repoUrl "github\.com\/acme\/shop" is not a git URL/],
  ])('rejects %s, naming the construct and the value', (_what, props, message) => {
    expect(() => synth(props)).toThrow(ValidationError);
    expect(() => synth(props)).toThrow(message);
  });
});
