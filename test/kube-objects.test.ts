import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, IResolver, JsonPatch, Lazy, ResolutionContext } from 'cdk8s';
import {
  BuildpacksBuildJob, CloudNativePgOperator, ContainerImage, ExternalPostgres, GoWebService, ImageLock, KanikoBuildJob, NetworkPeer, Postgres,
  PostgresCredentials, SealedSecretsController,
} from '../src';
import { digestOf, EXISTING_SECRET, PG_IMAGE } from './support/fixtures';
import { snapshotTree } from './support/synth';
import { k8s } from '../src/common/k8s';
import * as kubeObjects from '../src/common/kube-objects';
import * as plainJsonModule from '../src/common/plain-json';
import { TODO_REPOSITORY } from '../todo/repository';

const ROOT = path.resolve(__dirname, '..');
const KINDS = Object.keys(kubeObjects).filter(name => name.startsWith('Kube')).sort();

/** The library's Kube* class an object is of, if any (`instanceof` is true of every ApiObject for any of them). */
const kindOf = (object: ApiObject) => KINDS.find(kind => Object.prototype.isPrototypeOf.call((kubeObjects as any)[kind].prototype, object));

/** The object serialized by the library's class `kind`, and by the generated cdk8s-plus-27 class it extends. */
function bothJson(object: ApiObject, kind = kindOf(object)!): { direct: string; generated: string } {
  const direct = (kubeObjects as any)[kind];
  return {
    direct: JSON.stringify(direct.prototype.toJson.call(object)),
    generated: JSON.stringify(Object.getPrototypeOf(direct).prototype.toJson.call(object)),
  };
}

/** Every object of a chart of one of the library's Kube* classes, serialized both ways. */
function bothWays(chart: Chart): Array<{ kind: string; path: string; direct: string; generated: string }> {
  return chart.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c) && kindOf(c) !== undefined)
    .map(object => ({ kind: kindOf(object)!, path: object.node.path, ...bothJson(object) }));
}

/** What the spied `plainJson` returned for objects' bodies (not their metadata, the calls without `stopAt`). */
const bodyResults = (spy: jest.SpyInstance) => spy.mock.results.filter((_, i) => spy.mock.calls[i][1].stopAt).map(r => r.value);

/** A chart with every kind the library builds, from its own constructs. */
function everyKind(app = new App()): Chart {
  const chart = new Chart(app, 'chart', { namespace: 'ns', labels: { team: 'platform' } });
  const db = new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET, backup: { retentionDays: 3 } });
  const web = new GoWebService(chart, 'web', {
    image: ContainerImage.fromDigest('ghcr.io/acme/web', digestOf('web')),
    ingress: { host: 'web.example.com' },
    autoscaling: { minReplicas: 2, maxReplicas: 4, targetCpuUtilization: 70 },
  });
  web.connectToPostgres(db);
  new Postgres(chart, 'dev-db', { image: PG_IMAGE, credentials: PostgresCredentials.devOnlyPlaintext({ password: 'dev-password' }), allowPlaintextCredentials: true });
  new SealedSecretsController(chart, 'sealed-secrets', { image: ContainerImage.fromDigest('docker.io/bitnami/sealed-secrets-controller', digestOf('sealed')) });
  new CloudNativePgOperator(chart, 'cnpg', {
    image: ContainerImage.fromDigest('ghcr.io/cloudnative-pg/cloudnative-pg', digestOf('operator')),
    barmanCloudPlugin: { image: ContainerImage.fromDigest('ghcr.io/cloudnative-pg/plugin-barman-cloud', digestOf('plugin')) },
  });
  new GoWebService(chart, 'ledger', { image: ContainerImage.fromDigest('ghcr.io/acme/ledger', digestOf('ledger')) })
    .connectToPostgres(new ExternalPostgres(chart, 'ledger-db', { host: 'ledger.example.com', database: 'ledger', credentials: EXISTING_SECRET, network: NetworkPeer.ipBlock('10.20.0.5/32') }));
  new KanikoBuildJob(chart, 'kaniko', {
    image: ContainerImage.fromDigest('gcr.io/kaniko-project/executor', digestOf('kaniko')),
    gitContext: 'git://github.com/acme/todo.git#refs/heads/main',
    repository: 'ghcr.io/acme/todo',
    dockerConfigSecret: 'push',
  });
  new BuildpacksBuildJob(chart, 'buildpacks', {
    builder: ContainerImage.fromDigest('ghcr.io/acme/cnb-builder', digestOf('builder')),
    gitImage: ContainerImage.fromDigest('ghcr.io/acme/git', digestOf('git')),
    gitUrl: 'https://github.com/acme/todo.git',
    repository: 'ghcr.io/acme/todo',
    dockerConfigSecret: 'push',
    buildEnv: { BP_GO_TARGETS: './cmd/todo' },
  });
  return chart;
}

describe('the library\'s Kubernetes objects', () => {
  /** Props key -> wire name of every renamed key in the generated conversions (of one function, when named). */
  function generatedRenames(conversion?: string): Map<string, string> {
    let generated = fs.readFileSync(require.resolve('cdk8s-plus-27/lib/imports/k8s.js'), 'utf-8');
    if (conversion) generated = generated.slice(generated.indexOf(`function ${conversion}(`)).split('\n}\n')[0];
    const renamed = new Map<string, string>();
    for (const [, wire, prop] of generated.matchAll(/^\s+'([^']+)': .*?\bobj\.([A-Za-z0-9_]+)/gm)) {
      if (wire !== prop) renamed.set(prop, wire);
    }
    return renamed;
  }

  test('RENAMED_PROPS_KEYS lists exactly the props keys the generated conversions rename', () => {
    const renamed = generatedRenames();
    expect(renamed.size).toBeGreaterThan(20);
    expect([...kubeObjects.RENAMED_PROPS_KEYS].sort()).toEqual([...renamed.keys()].sort());
  });

  test('every generated conversion lists its keys sorted (after metadata), the order the walk sorts them in', () => {
    const generated = fs.readFileSync(require.resolve('cdk8s-plus-27/lib/imports/k8s.js'), 'utf-8');
    const conversions = [...generated.matchAll(/function (toJson_\w+)\(obj\) \{[\s\S]*?const result = \{([\s\S]*?)\n {4}\};/g)];
    expect(conversions.length).toBeGreaterThan(400);
    const unsorted = conversions.flatMap(([, name, body]) => {
      const keys = [...body.matchAll(/^\s+'([^']+)':/gm)].map(m => m[1]).filter(k => !(name.startsWith('toJson_Kube') && k === 'metadata'));
      return keys.join() === [...keys].sort().join() ? [] : [name];
    });
    expect(unsorted).toEqual([]);
  });

  test('SERVICE_SPEC_RENAMES are exactly the renames of the generated ServiceSpec conversion', () => {
    expect([...kubeObjects.SERVICE_SPEC_RENAMES].sort()).toEqual([...generatedRenames('toJson_ServiceSpec')].sort());
  });

  test('every kind the library builds serializes directly, byte for byte as the generated class does', () => {
    const spy = jest.spyOn(plainJsonModule, 'plainJson');
    try {
      const chart = everyKind();
      // Serialized directly, none of them goes through cdk8s's own ApiObject.toJson.
      const cdk8sToJson = jest.spyOn(ApiObject.prototype, 'toJson');
      chart.toJson();
      expect(cdk8sToJson).not.toHaveBeenCalled();
      cdk8sToJson.mockRestore();
      spy.mockClear();
      const objects = bothWays(chart);
      expect([...new Set(objects.map(o => o.kind))].sort()).toEqual(KINDS);
      for (const o of objects) expect({ path: o.path, json: o.direct }).toEqual({ path: o.path, json: o.generated });
      // None takes the generated path, the headless Services (`clusterIp`, renamed in place) included.
      expect(objects.filter(o => JSON.parse(o.direct).spec?.clusterIP === 'None').length).toBeGreaterThan(0);
      expect(bodyResults(spy)).toHaveLength(objects.length);
      expect(bodyResults(spy).filter(r => r === plainJsonModule.STOPPED)).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  test('tokens, number-or-string unions and nulls as the generated class has them; JSON patches take its path', () => {
    const chart = new Chart(new App(), 'chart', { labels: { lazy: Lazy.any({ produce: () => 'label' }) as any } });
    const service = new kubeObjects.KubeService(chart, 'svc', {
      spec: {
        ports: [{ port: 80, targetPort: k8s.IntOrString.fromString('http'), name: Lazy.any({ produce: () => 'web' }) as any }],
        selector: { app: 'web', gone: undefined as any, nulled: null as any },
        ipFamilies: [],
      },
    });
    new kubeObjects.KubeConfigMap(chart, 'config', { data: { z: '1', a: '2' }, binaryData: { implicit: { resolve: () => 'aGk=' } as any } });
    const quota = new kubeObjects.KubeDeployment(chart, 'deploy', {
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', resources: { limits: { memory: k8s.Quantity.fromString('64Mi'), cpu: k8s.Quantity.fromNumber(1) } } }] } },
        strategy: { rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1) } },
      },
    });
    const nulls = new kubeObjects.KubeConfigMap(chart, 'nulls', { data: { kept: 'v', gone: undefined as any, nulled: null as any } });
    quota.addJsonPatch(JsonPatch.add('/spec/paused', true), JsonPatch.remove('/spec/strategy'));
    service.addJsonPatch(JsonPatch.replace('/spec/ports/0/port', 8080));
    const objects = bothWays(chart);
    for (const o of objects) expect(o.direct).toBe(o.generated);
    // Dropped, not kept as undefined.
    expect(Object.keys(nulls.toJson().data)).toEqual(['kept']);
    const [svc, config, deploy] = objects.map(o => JSON.parse(o.direct));
    expect(svc.metadata.labels).toEqual({ lazy: 'label' });
    expect(svc.spec).toEqual({ ipFamilies: [], ports: [{ name: 'web', port: 8080, targetPort: 'http' }], selector: { app: 'web' } });
    expect(Object.keys(config.data)).toEqual(['a', 'z']);
    expect(config.binaryData).toEqual({ implicit: 'aGk=' });
    expect(deploy.spec.paused).toBe(true);
    expect(deploy.spec.strategy).toBeUndefined();
    expect(deploy.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: 1, memory: '64Mi' });
  });

  test('a renamed key (but those of a Service\'s spec), CDK8S_DISABLE_SORT or an App with resolvers of its own takes the generated path', () => {
    const spy = jest.spyOn(plainJsonModule, 'plainJson');
    try {
      const chart = new Chart(new App(), 'chart');
      const headless = new kubeObjects.KubeService(chart, 'headless', { spec: { clusterIp: 'None', loadBalancerIp: '10.0.0.2', ports: [{ port: 5432 }] } });
      const sticky = new kubeObjects.KubeService(chart, 'sticky', { spec: { sessionAffinityConfig: { clientIp: { timeoutSeconds: 60 } } } });
      const bare = new kubeObjects.KubeService(chart, 'bare');
      const nulled = new kubeObjects.KubeService(chart, 'nulled', { spec: null as any });
      expect([bare.toJson().spec, nulled.toJson().spec]).toEqual([undefined, undefined]);
      spy.mockClear();
      // A spec that is a token is renamed by nobody but the generated conversion.
      const lazy = new kubeObjects.KubeService(chart, 'lazy', { spec: Lazy.any({ produce: () => ({ clusterIp: 'None' }) }) as any });
      // A map key that happens to be a renamed props key is not renamed by the generated class either.
      const config = new kubeObjects.KubeConfigMap(chart, 'config', { data: { hostIp: '10.0.0.1' }, binaryData: { clusterIp: 'MTA=' } });
      const headlessSpec = headless.toJson().spec;
      expect(headlessSpec).toEqual({ clusterIP: 'None', loadBalancerIP: '10.0.0.2', ports: [{ port: 5432 }] });
      expect(Object.keys(headlessSpec)).toEqual(['clusterIP', 'loadBalancerIP', 'ports']);
      expect(sticky.toJson().spec).toEqual({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
      expect(lazy.toJson().spec).toEqual({ clusterIP: 'None' });
      expect(config.toJson()).toMatchObject({ data: { hostIp: '10.0.0.1' }, binaryData: { clusterIp: 'MTA=' } });
      // The Service's spec renames are the walk's; the nested one, the token's and the map keys stop it.
      expect(bodyResults(spy).map(r => r === plainJsonModule.STOPPED)).toEqual([false, true, true, true]);
      expect(bothWays(chart).map(o => o.direct === o.generated)).toEqual([true, true, true, true, true, true]);

      const upper: IResolver = { resolve: (context: ResolutionContext) => { if (context.value === 'web') context.replaceValue('WEB'); } };
      const custom = new Chart(new App({ resolvers: [upper] }), 'custom');
      new kubeObjects.KubeConfigMap(custom, 'config', { data: { name: 'web' } });
      spy.mockClear();
      expect(custom.toJson()[0].data).toEqual({ name: 'WEB' });
      expect(spy).not.toHaveBeenCalled();

      process.env.CDK8S_DISABLE_SORT = '1';
      try {
        const unsorted = new Chart(new App(), 'unsorted');
        const map = new kubeObjects.KubeConfigMap(unsorted, 'config', { data: { z: '1', a: '2' } });
        expect(Object.keys(map.toJson().data)).toEqual(['z', 'a']);
        const { direct, generated } = bothJson(map);
        expect(direct).toBe(generated);
      } finally {
        delete process.env.CDK8S_DISABLE_SORT;
      }
    } finally {
      spy.mockRestore();
    }
  });

  test('metadata: what a plain ApiObject with the same props has, after the same additions, in one walk', () => {
    const spy = jest.spyOn(plainJsonModule, 'plainJson');
    try {
      // The library's kind walking its metadata, the same through cdk8s's record (an App with a
      // resolver of its own), and a plain ApiObject.
      const noOp: IResolver = { resolve: () => undefined };
      const variants: Array<[typeof ApiObject, App]> = [
        [kubeObjects.KubeConfigMap, new App()],
        [kubeObjects.KubeConfigMap, new App({ resolvers: [noOp] })],
        [ApiObject, new App()],
      ];
      const [direct, recorded, plain] = variants.map(([Kind, app]) => {
        const chart = new Chart(app, 'chart', { namespace: 'chart-ns', labels: { team: 'platform', tier: 'chart', lazy: Lazy.any({ produce: () => 'chart' }) as any } });
        const props = { metadata: { labels: { tier: 'object' }, annotations: {}, finalizers: [], generateName: 'gen-' }, data: { key: 'value' } };
        const named = new Kind(chart, 'named', { apiVersion: 'v1', kind: 'ConfigMap', ...props, metadata: { ...props.metadata, name: 'config', namespace: 'object-ns' } });
        const unnamed = new Kind(chart, 'unnamed', { apiVersion: 'v1', kind: 'ConfigMap', ...props });
        unnamed.metadata.addLabel('added', 'label');
        unnamed.metadata.addAnnotation('added', Lazy.any({ produce: () => 'annotation' }) as any);
        unnamed.metadata.addFinalizers('acme.io/keep');
        unnamed.metadata.addFinalizers('acme.io/also');
        unnamed.metadata.addOwnerReference({ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1' });
        unnamed.metadata.addOwnerReference({ apiVersion: 'v1', kind: 'Secret', name: 'owner', uid: 'u-2' });
        unnamed.metadata.add('extra', { nested: {}, kept: 1 });
        // Nothing given, then added.
        const bare = new Kind(chart, 'bare', { apiVersion: 'v1', kind: 'ConfigMap' });
        bare.metadata.addFinalizers('acme.io/bare');
        bare.metadata.addOwnerReference({ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-3' });
        bare.metadata.addAnnotation('bare', 'yes');
        return [named, unnamed, bare].map(o => ({ json: JSON.stringify(o.metadata.toJson()), label: o.metadata.getLabel('added') }));
      });
      // The two objects share their props' metadata: what one adds, the other does not get.
      expect(JSON.parse(direct[0].json).annotations).toBeUndefined();
      expect(direct).toEqual(plain);
      expect(recorded).toEqual(plain);
      expect(JSON.parse(direct[1].json)).toEqual({
        annotations: { added: 'annotation' },
        extra: { kept: 1 },
        finalizers: ['acme.io/keep', 'acme.io/also'],
        generateName: 'gen-',
        labels: { added: 'label', lazy: 'chart', team: 'platform', tier: 'object' },
        name: 'chart-unnamed-c84858c8',
        namespace: 'chart-ns',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1' }, { apiVersion: 'v1', kind: 'Secret', name: 'owner', uid: 'u-2' }],
      });
      expect(direct[1].label).toBe('label');
      expect(JSON.parse(direct[2].json)).toMatchObject({ annotations: { bare: 'yes' }, finalizers: ['acme.io/bare'], ownerReferences: [{ uid: 'u-3' }] });
      // The library's objects walked their metadata themselves, three times (its three objects).
      expect(spy.mock.calls.filter(([, options]) => options.dropEmpty)).toHaveLength(3);
    } finally {
      spy.mockRestore();
    }
  });

  test('a value that is not plain JSON is refused with the construct path, as before', () => {
    const chart = new Chart(new App(), 'chart');
    new kubeObjects.KubeConfigMap(chart, 'config', { data: { when: new Date(0) as any } });
    const cdk8sToJson = jest.spyOn(ApiObject.prototype, 'toJson');
    try {
      expect(() => chart.toJson()).toThrow(/construct at path 'chart\/config'.*non-simple object of type 'Date'/);
      // The walk's own error: the object did not fall back to cdk8s's path.
      expect(cdk8sToJson).not.toHaveBeenCalled();
    } finally {
      cdk8sToJson.mockRestore();
    }
    const bare = new Chart(new App(), 'bare');
    new kubeObjects.KubeConfigMap(bare, 'config', { data: { when: Object.create(null) } });
    expect(() => bare.toJson()).toThrow(/construct at path 'bare\/config'.*non-simple object of type 'undefined'/);
  });

  test('the todo tree is byte-identical to the one synthesized through the generated classes', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-objects-'));
    try {
      const lock = ImageLock.fromFile(path.join(ROOT, 'images.lock.json'));
      const synth = (dir: string) => TODO_REPOSITORY.synth({ outdir: path.join(tmp, dir, 'dist'), helmDir: path.join(tmp, dir, 'helm'), tankaDir: path.join(tmp, dir, 'tanka'), lock });
      synth('direct');
      const spy = jest.spyOn(plainJsonModule, 'hasBuiltInResolversOnly').mockReturnValue(false);
      try {
        synth('generated');
      } finally {
        spy.mockRestore();
      }
      expect(snapshotTree(path.join(tmp, 'direct'))).toEqual(snapshotTree(path.join(tmp, 'generated')));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
