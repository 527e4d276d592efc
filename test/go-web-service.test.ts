import { GoWebService, NetworkPeer, Postgres } from '../src';
import { APP_IMAGE, EXISTING_SECRET, PG_IMAGE } from './support/fixtures';
import { restrictedViolations } from './support/pod-security';
import { SchemaValidator } from './support/schema';
import { container, only, synthChart } from './support/synth';
import { SYNC_WAVE_ANNOTATION } from '../src/common/labels';

const schema = new SchemaValidator();
const namespaceSelector = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
const HTTP_PORTS = [{ port: 8080, protocol: 'TCP' }];

describe('GoWebService defaults', () => {
  const objects = synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE }));
  const deployment = only(objects, 'Deployment', 'todo');
  const pod = deployment.spec.template.spec;
  const app = container(pod, 'app');

  test('snapshot', () => expect(objects).toMatchSnapshot());

  test('emits exactly the expected objects, all schema-valid', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/todo-config', 'Deployment/todo', 'NetworkPolicy/todo', 'PodDisruptionBudget/todo', 'Service/todo', 'ServiceAccount/todo',
    ]);
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('pod meets the restricted Pod Security Standard', () => {
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(app.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  test('a writable /tmp comes from an emptyDir', () => {
    const mount = app.volumeMounts.find((m: any) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: any) => v.name === mount.name).emptyDir).toBeDefined();
  });

  test('no service account token is mounted', () => {
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('todo');
  });

  test('probes hit the health paths on the named http port', () => {
    expect(app.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(app.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(app.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(app.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('PORT reaches the container from the ConfigMap', () => {
    expect(only(objects, 'ConfigMap').data).toEqual({ PORT: '8080' });
    expect(app.envFrom).toEqual([{ configMapRef: { name: 'todo-config' } }]);
  });

  test('requests and limits are set; termination is graceful; 2 replicas', () => {
    expect(app.resources.requests).toEqual({ 'cpu': '100m', 'memory': '128Mi', 'ephemeral-storage': '256Mi' });
    expect(app.resources.limits).toEqual({ 'cpu': '500m', 'memory': '256Mi', 'ephemeral-storage': '256Mi' });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });

  test('image is pinned by digest', () => {
    expect(app.image).toMatch(/^registry\.test\/acme\/todo@sha256:[a-f0-9]{64}$/);
  });

  test('NetworkPolicy admits the HTTP port only from the own namespace and lets the pods out only to DNS', () => {
    const policy = only(objects, 'NetworkPolicy', 'todo');
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([{ from: [{ podSelector: {} }], ports: HTTP_PORTS }]);
    expect(policy.spec.egress).toHaveLength(1);
    expect(policy.spec.egress[0].ports.map((p: any) => `${p.port}/${p.protocol}`)).toEqual(['53/UDP', '53/TCP']);
  });

  test('Service and PDB select the pods', () => {
    const labels = pod.metadata?.labels ?? deployment.spec.template.metadata.labels;
    const svc = only(objects, 'Service');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    for (const selector of [svc.spec.selector, only(objects, 'PodDisruptionBudget').spec.selector.matchLabels]) {
      for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
    }
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });
});

describe('GoWebService options', () => {
  test('egress can be left open for services that call other APIs', () => {
    const objects = synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE, restrictEgress: false }));
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.egress).toBeUndefined();
  });

  test('autoscaling adds an HPA and leaves replicas to it', () => {
    const objects = synthChart(chart => new GoWebService(chart, 'todo', {
      image: APP_IMAGE, autoscaling: { minReplicas: 3, maxReplicas: 9, targetCpuUtilization: 60 },
    }));
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 9, scaleTargetRef: { kind: 'Deployment', name: 'todo' } });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(60);
    expect(only(objects, 'Deployment').spec.replicas).toBeUndefined();
    expect(schema.errors(hpa)).toEqual([]);
  });

  test('autoscaling renders the stabilization windows that are set, and no behavior otherwise', () => {
    const hpa = (windows: object) => only(synthChart(chart => new GoWebService(chart, 'todo', {
      image: APP_IMAGE, autoscaling: { minReplicas: 3, maxReplicas: 9, ...windows },
    })), 'HorizontalPodAutoscaler');
    expect(hpa({}).spec.behavior).toBeUndefined();
    const down = hpa({ scaleDownStabilizationSeconds: 60 });
    expect(down.spec.behavior).toEqual({ scaleDown: { stabilizationWindowSeconds: 60 } });
    expect(schema.errors(down)).toEqual([]);
    const both = hpa({ scaleDownStabilizationSeconds: 0, scaleUpStabilizationSeconds: 3600 });
    expect(both.spec.behavior).toEqual({ scaleDown: { stabilizationWindowSeconds: 0 }, scaleUp: { stabilizationWindowSeconds: 3600 } });
    expect(schema.errors(both)).toEqual([]);
  });

  test('config changes roll the pods through the checksum annotation', () => {
    const checksum = (env: Record<string, string>) => only(synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE, env })), 'Deployment')
      .spec.template.metadata.annotations['checksum/config'];
    expect(checksum({ A: '1' })).toBe(checksum({ A: '1' }));
    expect(checksum({ A: '1' })).not.toBe(checksum({ A: '2' }));
  });

  test('secretEnv references Secrets without copying values', () => {
    const objects = synthChart(chart => new GoWebService(chart, 'todo', {
      image: APP_IMAGE, secretEnv: { API_KEY: { secretName: 'api', key: 'key' } },
    }));
    expect(container(only(objects, 'Deployment').spec.template.spec, 'app').env)
      .toEqual([{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api', key: 'key' } } }]);
  });
});

describe('connectToPostgres', () => {
  const objects = synthChart(chart => {
    const db = new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET });
    new GoWebService(chart, 'todo', { image: APP_IMAGE }).connectToPostgres(db);
  });
  const app = container(only(objects, 'Deployment').spec.template.spec, 'app');

  test('sets the libpq variables, credentials only by Secret reference', () => {
    const env = Object.fromEntries(app.env.map((e: any) => [e.name, e]));
    expect(env.PGHOST.value).toBe('db');
    expect(env.PGPORT.value).toBe('5432');
    expect(env.PGDATABASE.value).toBe('app');
    expect(env.PGUSER.valueFrom.secretKeyRef).toEqual({ name: 'db-login', key: 'username' });
    expect(env.PGPASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'db-login', key: 'password' });
    expect(env.PGPASSWORD.value).toBeUndefined();
  });

  test('the service may open connections to the database port', () => {
    const egress = only(objects, 'NetworkPolicy', 'todo').spec.egress;
    expect(egress).toContainEqual({
      to: [{ podSelector: { matchLabels: only(objects, 'StatefulSet').spec.selector.matchLabels } }],
      ports: [{ port: 5432, protocol: 'TCP' }],
    });
  });

  test('the NetworkPolicy admits only the service pods to the Postgres port', () => {
    const policy = only(objects, 'NetworkPolicy', 'db');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([{
      from: [{ podSelector: { matchLabels: only(objects, 'Deployment').spec.selector.matchLabels } }],
      ports: [{ port: 5432, protocol: 'TCP' }],
    }]);
    expect(policy.spec.podSelector.matchLabels).toEqual(only(objects, 'StatefulSet').spec.selector.matchLabels);
  });

  test('Argo CD applies the database before the service', () => {
    const wave = (o: any) => Number(o.metadata.annotations?.[SYNC_WAVE_ANNOTATION]);
    const db = objects.filter(o => o.metadata.labels?.['app.kubernetes.io/component'] === 'database');
    const web = objects.filter(o => o.metadata.labels?.['app.kubernetes.io/component'] === 'web');
    expect(db.length).toBeGreaterThan(3);
    expect(web.length).toBeGreaterThan(3);
    for (const d of db) for (const w of web) expect(wave(d)).toBeLessThan(wave(w));
  });
});

describe('GoWebService ingress', () => {
  let web: GoWebService | undefined;
  const objects = synthChart(chart => {
    web = new GoWebService(chart, 'todo', {
      image: APP_IMAGE,
      servicePort: 8000,
      ingress: {
        host: 'todo.example.com',
        path: '/api',
        pathType: 'Exact',
        ingressClassName: 'nginx',
        tlsSecretName: 'todo-tls',
        annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
        controller: NetworkPeer.pods({ 'app.kubernetes.io/name': 'traefik' }, 'traefik'),
      },
    });
  });
  const ingress = only(objects, 'Ingress', 'todo');

  test('is a networking.k8s.io/v1 Ingress named and labelled like the service, all objects schema-valid', () => {
    expect(ingress.apiVersion).toBe('networking.k8s.io/v1');
    expect(ingress.metadata.labels).toEqual(only(objects, 'Service').metadata.labels);
    expect(web!.ingress!.name).toBe('todo');
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('routes the host and path to the named port of the Service', () => {
    expect(ingress.spec.rules).toEqual([{
      host: 'todo.example.com',
      http: { paths: [{ path: '/api', pathType: 'Exact', backend: { service: { name: 'todo', port: { name: 'http' } } } }] },
    }]);
    expect(only(objects, 'Service').spec.ports).toEqual([{ name: 'http', port: 8000, targetPort: 'http', protocol: 'TCP' }]);
  });

  test('sets the IngressClass, TLS for the host and the annotations', () => {
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['todo.example.com'], secretName: 'todo-tls' }]);
    expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
  });

  test('the NetworkPolicy admits only the ingress controller to the HTTP port', () => {
    expect(only(objects, 'NetworkPolicy', 'todo').spec.ingress).toEqual([{
      from: [{ namespaceSelector: namespaceSelector('traefik'), podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } } }],
      ports: HTTP_PORTS,
    }]);
  });

  test('defaults: path /, Prefix, the default IngressClass, no TLS, no annotations, ingress-nginx as controller', () => {
    const defaults = synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE, ingress: { host: '*.example.com' } }));
    const ing = only(defaults, 'Ingress', 'todo');
    expect(ing.metadata.annotations).toBeUndefined();
    expect(ing.spec.ingressClassName).toBeUndefined();
    expect(ing.spec.tls).toBeUndefined();
    expect(ing.spec.rules).toEqual([{
      host: '*.example.com',
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'todo', port: { name: 'http' } } } }] },
    }]);
    expect(only(defaults, 'NetworkPolicy').spec.ingress).toEqual([{ from: [{ namespaceSelector: namespaceSelector('ingress-nginx') }], ports: HTTP_PORTS }]);
    for (const o of defaults) expect(schema.errors(o)).toEqual([]);
  });
});

describe('HTTP clients', () => {
  test('explicit clients replace the own-namespace default, each NetworkPeer rendering its selector', () => {
    const objects = synthChart(chart => {
      const web = new GoWebService(chart, 'todo', { image: APP_IMAGE, httpClients: [NetworkPeer.namespace('batch')] });
      web.allowHttpFrom(NetworkPeer.pods({ app: 'gateway' }));
      web.allowHttpFrom(NetworkPeer.pods({ app: 'gateway' }, 'edge'));
      web.allowHttpFrom(NetworkPeer.sameNamespace());
    });
    const policy = only(objects, 'NetworkPolicy', 'todo');
    expect(policy.spec.ingress).toEqual([{
      from: [
        { namespaceSelector: namespaceSelector('batch') },
        { podSelector: { matchLabels: { app: 'gateway' } } },
        { namespaceSelector: namespaceSelector('edge'), podSelector: { matchLabels: { app: 'gateway' } } },
        { podSelector: {} },
      ],
      ports: HTTP_PORTS,
    }]);
    expect(schema.errors(policy)).toEqual([]);
  });

  test('with an Ingress, explicit clients are admitted besides the controller', () => {
    const objects = synthChart(chart => new GoWebService(chart, 'todo', {
      image: APP_IMAGE, ingress: { host: 'todo.example.com' }, httpClients: [NetworkPeer.pods({ app: 'worker' })],
    }));
    expect(only(objects, 'NetworkPolicy', 'todo').spec.ingress).toEqual([{
      from: [{ namespaceSelector: namespaceSelector('ingress-nginx') }, { podSelector: { matchLabels: { app: 'worker' } } }],
      ports: HTTP_PORTS,
    }]);
  });
});

describe('connectToPostgres with several databases', () => {
  const objects = synthChart(chart => {
    const main = new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET });
    const reports = new Postgres(chart, 'reports', { image: PG_IMAGE, credentials: EXISTING_SECRET, database: 'reporting', syncWave: 3 });
    const web = new GoWebService(chart, 'todo', { image: APP_IMAGE, ingress: { host: 'todo.example.com' } });
    web.connectToPostgres(reports, { envPrefix: 'REPORTS_', sslMode: 'require' });
    web.connectToPostgres(main);
  });
  const app = container(only(objects, 'Deployment').spec.template.spec, 'app');
  const webSelector = only(objects, 'Deployment').spec.selector.matchLabels;
  const dbSelector = (name: string) => only(objects, 'StatefulSet', name).spec.selector.matchLabels;

  test('each database gets its own variables, the prefixed ones named after envPrefix', () => {
    expect(app.env.map((e: any) => e.name)).toEqual([
      'REPORTS_PGHOST', 'REPORTS_PGPORT', 'REPORTS_PGDATABASE', 'REPORTS_PGUSER', 'REPORTS_PGPASSWORD', 'REPORTS_PGSSLMODE',
      'PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSSLMODE',
    ]);
    const env = Object.fromEntries(app.env.map((e: any) => [e.name, e]));
    expect(env.REPORTS_PGHOST.value).toBe('reports');
    expect(env.REPORTS_PGPORT.value).toBe('5432');
    expect(env.REPORTS_PGDATABASE.value).toBe('reporting');
    expect(env.REPORTS_PGPASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'db-login', key: 'password' });
    expect(env.REPORTS_PGSSLMODE.value).toBe('require');
    expect(env.PGHOST.value).toBe('db');
    expect(env.PGSSLMODE.value).toBe('prefer');
  });

  test('the service may open connections to each database port', () => {
    expect(only(objects, 'NetworkPolicy', 'todo').spec.egress.slice(1)).toEqual([
      { to: [{ podSelector: { matchLabels: dbSelector('reports') } }], ports: [{ port: 5432, protocol: 'TCP' }] },
      { to: [{ podSelector: { matchLabels: dbSelector('db') } }], ports: [{ port: 5432, protocol: 'TCP' }] },
    ]);
  });

  test('each database admits the service pods', () => {
    for (const name of ['db', 'reports']) {
      expect(only(objects, 'NetworkPolicy', name).spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: webSelector } }], ports: [{ port: 5432, protocol: 'TCP' }] }]);
    }
  });

  test('the service, Ingress included, syncs one wave after the latest database', () => {
    const web = objects.filter(o => o.metadata.labels?.['app.kubernetes.io/component'] === 'web');
    expect(web.map(o => o.kind)).toContain('Ingress');
    for (const o of web) expect(o.metadata.annotations[SYNC_WAVE_ANNOTATION]).toBe('4');
  });

  test('all objects are schema-valid and the pod stays restricted', () => {
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    expect(restrictedViolations(only(objects, 'Deployment').spec.template.spec)).toEqual([]);
  });
});
