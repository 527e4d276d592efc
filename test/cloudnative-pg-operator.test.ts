import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  CloudNativePgOperator, ContainerImage, GitOpsRepository, ImageLock, cloudNativePgPlatform, combinePlatforms, sealedSecretsPlatform,
} from '../src';
import { digestOf } from './support/fixtures';
import { only, synthChart } from './support/synth';

const IMAGE = ContainerImage.fromDigest('registry.acme.example/cloudnative-pg', digestOf('operator'));
const UPSTREAM = path.join(__dirname, '..', 'third_party', 'cloudnative-pg-v1.30.0', 'cnpg-1.30.0.yaml');

function upstreamObjects(): any[] {
  return YAML.parseAllDocuments(fs.readFileSync(UPSTREAM, 'utf-8')).map(d => d.toJS()).filter(o => o);
}

describe('CloudNativePgOperator', () => {
  test('renders every object of the vendored release manifest, the image pinned in the Deployment and for the instances', () => {
    const objects = synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE }));
    const key = (o: any) => `${o.kind}/${o.metadata.name}`;
    const upstream = upstreamObjects();
    expect(upstream.length).toBeGreaterThan(20);
    // Upstream's Namespace is replaced by one under "restricted" Pod Security; a NetworkPolicy is added.
    expect(objects.map(key).sort()).toEqual([...upstream.map(key), 'NetworkPolicy/cnpg-controller-manager', 'PodDisruptionBudget/cnpg-controller-manager'].sort());
    expect(only(objects, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(objects.filter(o => o.kind === 'CustomResourceDefinition').map(o => o.metadata.name)).toContain('clusters.postgresql.cnpg.io');

    const deployment = only(objects, 'Deployment', 'cnpg-controller-manager');
    const manager = deployment.spec.template.spec.containers[0];
    const pinned = `registry.acme.example/cloudnative-pg@${digestOf('operator')}`;
    expect(manager.image).toBe(pinned);
    expect(manager.imagePullPolicy).toBe('IfNotPresent');
    expect(manager.env.find((e: any) => e.name === 'OPERATOR_IMAGE_NAME').value).toBe(pinned);
    expect(manager.resources.limits).toEqual({ 'cpu': '1', 'memory': '256Mi', 'ephemeral-storage': '200Mi' });
    expect(manager.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('a namespace of its own: every object, binding subject and webhook service moves there', () => {
    const objects = synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, namespace: 'databases-system' }));
    const text = JSON.stringify(objects);
    expect(text).not.toContain('cnpg-system');
    expect(only(objects, 'Namespace').metadata.name).toBe('databases-system');
    expect(only(objects, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'cnpg-manager', namespace: 'databases-system' }]);
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const webhooks = only(objects, kind);
      expect(webhooks.webhooks.map((w: any) => w.clientConfig.service.namespace)).toEqual(webhooks.webhooks.map(() => 'databases-system'));
      // The operator writes caBundle from its own certificate: Argo CD must not call that drift.
      expect(webhooks.metadata.annotations['argocd.argoproj.io/compare-options']).toBe('ServerSideDiff=true');
    }
  });

  test('two operators by default, preferably on two nodes, one at a time in a drain; one when asked, without either', () => {
    const objects = synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE }));
    const deployment = only(objects, 'Deployment', 'cnpg-controller-manager');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0].args).toContain('--leader-elect');
    expect(deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([{
      weight: 100,
      podAffinityTerm: { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } }, topologyKey: 'kubernetes.io/hostname' },
    }]);
    expect(only(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } } });

    const single = synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, replicas: 1 }));
    expect(only(single, 'Deployment', 'cnpg-controller-manager').spec.replicas).toBe(1);
    expect(only(single, 'Deployment', 'cnpg-controller-manager').spec.template.spec.affinity).toBeUndefined();
    expect(single.filter(o => o.kind === 'PodDisruptionBudget')).toEqual([]);
    expect(() => synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, replicas: 0 }))).toThrow(/^test\/cnpg: replicas 0 is out of range/);
  });

  test('only the webhook and metrics ports are admitted', () => {
    const policy = only(synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE })), 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'cloudnative-pg' });
    expect(policy.spec.ingress).toEqual([{ ports: [{ port: 9443, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }] }]);
  });

  test('an image by tag or a bad namespace is refused at synth time, naming the construct', () => {
    expect(() => synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: ContainerImage.fromTag('ghcr.io/cloudnative-pg/cloudnative-pg', '1.30.0') })))
      .toThrow(/cnpg.*1\.30\.0/);
    expect(() => synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, namespace: 'Bad_NS' }))).toThrow(/cnpg.*namespace.*Bad_NS/);
  });
});

describe('CloudNativePgOperator with the Barman Cloud plugin', () => {
  const PLUGIN = ContainerImage.fromDigest('registry.acme.example/plugin-barman-cloud', digestOf('plugin'));
  const objects = synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, barmanCloudPlugin: { image: PLUGIN } }));
  const pod = only(objects, 'Deployment', 'cnpg-controller-manager').spec.template.spec;
  const pinned = `registry.acme.example/plugin-barman-cloud@${digestOf('plugin')}`;

  test('the plugin is a native sidecar of the operator: started first, serving CNPG-I on a Unix socket in a volume both mount, no port', () => {
    expect(pod.initContainers).toHaveLength(1);
    const sidecar = pod.initContainers[0];
    expect(sidecar).toMatchObject({ name: 'plugin-barman-cloud', image: pinned, restartPolicy: 'Always', imagePullPolicy: 'IfNotPresent' });
    expect(sidecar.args).toEqual(['operator', '--plugin-path=/plugins', '--leader-elect=false', '--health-probe-bind-address=0', '--metrics-bind-address=0']);
    expect(sidecar.ports).toBeUndefined();
    // The operator reads the socket directory once, at its start: the sidecar must be up before.
    expect(sidecar.startupProbe.exec.command).toEqual(['/usr/bin/test', '-S', '/plugins/barman-cloud.cloudnative-pg.io']);
    expect(sidecar.volumeMounts).toEqual([{ name: 'plugins', mountPath: '/plugins' }]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'plugins', mountPath: '/plugins' });
    expect(pod.volumes).toContainEqual({ name: 'plugins', emptyDir: {} });
    // The same image is the sidecar the plugin puts into every instance that archives with it.
    expect(sidecar.env).toEqual([{ name: 'SIDECAR_IMAGE', value: pinned }]);
    expect(sidecar.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // The operator's own user, who must be able to connect to the socket the plugin makes.
    expect([sidecar.securityContext.runAsUser, sidecar.securityContext.runAsGroup]).toEqual([10001, 10001]);
    expect(pod.containers[0].securityContext.runAsUser).toBe(10001);
    expect(sidecar.resources.limits).toEqual({ 'cpu': '500m', 'memory': '256Mi', 'ephemeral-storage': '100Mi' });
  });

  test('the ObjectStore CRD and upstream\'s cluster role, bound to the operator\'s service account; nothing of upstream\'s TLS', () => {
    expect(only(objects, 'CustomResourceDefinition', 'objectstores.barmancloud.cnpg.io').spec.group).toBe('barmancloud.cnpg.io');
    const role = only(objects, 'ClusterRole', 'plugin-barman-cloud');
    expect(role.rules).toContainEqual({ apiGroups: ['barmancloud.cnpg.io'], resources: ['objectstores'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] });
    expect(only(objects, 'ClusterRoleBinding', 'plugin-barman-cloud').subjects).toEqual([{ kind: 'ServiceAccount', name: 'cnpg-manager', namespace: 'cnpg-system' }]);
    expect(objects.filter(o => ['Certificate', 'Issuer'].includes(o.kind))).toEqual([]);
    expect(objects.filter(o => o.kind === 'Service').map(o => o.metadata.name)).toEqual(['cnpg-webhook-service']);
  });

  test('a bad resource quantity for the plugin names the construct, the prop and the value', () => {
    expect(() => synthChart(c => new CloudNativePgOperator(c, 'cnpg', {
      image: IMAGE, barmanCloudPlugin: { image: PLUGIN, resources: { cpuRequest: 'ten', memoryRequest: '32Mi', cpuLimit: '500m', memoryLimit: '256Mi' } },
    }))).toThrow(/cnpg.*barmanCloudPlugin\.resources\.cpuRequest.*"ten"/s);
  });

  test('the plugin\'s image must be pinned by digest, unless the operator\'s allowUnpinnedImage allows a tag (dev)', () => {
    const byTag = ContainerImage.fromTag('registry.acme.example/plugin-barman-cloud', 'v0.14.0');
    expect(() => synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, barmanCloudPlugin: { image: byTag } }))).toThrow(/cnpg.*digest/s);
    const dev = synthChart(c => new CloudNativePgOperator(c, 'cnpg', { image: IMAGE, allowUnpinnedImage: true, barmanCloudPlugin: { image: byTag } }));
    expect(only(dev, 'Deployment', 'cnpg-controller-manager').spec.template.spec.initContainers[0].image).toBe('registry.acme.example/plugin-barman-cloud:v0.14.0');
  });
});

describe('combinePlatforms', () => {
  test('Sealed Secrets and CloudNativePG in one platform Application: both namespaces allowed, the kinds of both, the operator\'s certificate not orphaned', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'platforms-'));
    try {
      const repository = new GitOpsRepository<{}>({
        name: 'shop',
        repoUrl: 'https://github.com/acme/shop.git',
        environments: [{ name: 'dev', namespace: 'shop-dev', settings: {} }],
        stack: () => undefined,
        platform: combinePlatforms(sealedSecretsPlatform(), cloudNativePgPlatform()),
      });
      repository.synth({ outdir: root, lock: ImageLock.fromFile(path.join(__dirname, '..', 'images.lock.json')) });
      const read = (dir: string) => YAML.parseAllDocuments(fs.readFileSync(path.join(root, dir, fs.readdirSync(path.join(root, dir))[0]), 'utf-8')).map(d => d.toJS());
      const platform = read('platform');
      expect(platform.filter(o => o.kind === 'Deployment').map(o => `${o.metadata.namespace}/${o.metadata.name}`))
        .toEqual(['sealed-secrets/sealed-secrets-controller', 'cnpg-system/cnpg-controller-manager']);
      const project = read('apps').find(o => o.kind === 'AppProject' && o.metadata.name === 'shop-platform');
      expect(project.spec.destinations.map((d: any) => d.namespace)).toEqual(['sealed-secrets', 'cnpg-system']);
      expect(project.spec.clusterResourceWhitelist.map((r: any) => r.kind)).toEqual([
        'Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
      ]);
      expect(project.spec.orphanedResources.ignore.map((r: any) => r.name)).toEqual(['sealed-secrets-key*', 'cnpg-webhook-cert']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
