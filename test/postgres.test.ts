import { ContainerImage, GoWebService, NetworkPeer, Postgres, PostgresCredentials } from '../src';
import { APP_IMAGE, digestOf, EXISTING_SECRET, PG_IMAGE } from './support/fixtures';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { SchemaValidator } from './support/schema';
import { container, only, synthChart } from './support/synth';

const schema = new SchemaValidator();
const EXPORTER_IMAGE = ContainerImage.fromDigest('quay.io/prometheuscommunity/postgres-exporter', digestOf('e'));

describe('Postgres defaults', () => {
  const objects = synthChart(chart => new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET }));
  const sts = only(objects, 'StatefulSet', 'db');
  const pod = sts.spec.template.spec;
  const pg = container(pod, 'postgres');

  test('snapshot', () => expect(objects).toMatchSnapshot());

  test('emits the expected objects, all schema-valid, no Secret', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'NetworkPolicy/db', 'PodDisruptionBudget/db', 'Service/db', 'Service/db-headless', 'ServiceAccount/db', 'StatefulSet/db',
    ]);
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('volumeClaimTemplates carry apiVersion and kind', () => {
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0]).toMatchObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' } });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
  });

  test('PGDATA is a subdirectory of the data volume', () => {
    const dataMount = pg.volumeMounts.find((m: any) => m.name === 'data').mountPath;
    const pgdata = pg.env.find((e: any) => e.name === 'PGDATA').value;
    expect(pgdata.startsWith(`${dataMount}/`)).toBe(true);
  });

  test('headless Service governs the StatefulSet; client Service exposes 5432', () => {
    const headless = only(objects, 'Service', 'db-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(sts.spec.serviceName).toBe('db-headless');
    expect(only(objects, 'Service', 'db').spec.ports[0]).toMatchObject({ port: 5432, targetPort: 'postgres' });
  });

  test('pg_isready readiness, TCP liveness, resources, restricted security with writable run and tmp dirs', () => {
    for (const probe of [pg.startupProbe, pg.readinessProbe]) {
      // --username: a runAsUser without a passwd entry in the image makes pg_isready fail without one.
      expect(probe.exec.command).toEqual(['pg_isready', '--host=127.0.0.1', '--port=5432', '--username=postgres']);
    }
    expect(pg.livenessProbe.tcpSocket).toEqual({ port: 'postgres' });
    expect(pg.resources.limits.memory).toBe('1Gi');
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.securityContext).toMatchObject({ runAsUser: 70, runAsGroup: 70, fsGroup: 70 });
    const mounts = pg.volumeMounts.map((m: any) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(['/var/run/postgresql', '/tmp']));
  });

  test('credentials come from the existing Secret', () => {
    const env = Object.fromEntries(pg.env.map((e: any) => [e.name, e]));
    expect(env.POSTGRES_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'db-login', key: 'password' });
    expect(env.POSTGRES_USER.valueFrom.secretKeyRef).toEqual({ name: 'db-login', key: 'username' });
  });

  test('without connected clients the NetworkPolicy admits nobody, and Postgres opens no connections', () => {
    const policy = only(objects, 'NetworkPolicy');
    // Rule lists are left out rather than empty: the API server drops empty lists, which would be a perpetual diff.
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toBeUndefined();
  });

  test('without metrics the pods carry no scrape annotations', () => {
    expect(sts.spec.template.metadata.annotations).toBeUndefined();
  });

  test('ephemeral storage is requested and limited', () => {
    expect(pg.resources.requests['ephemeral-storage']).toBe('1Gi');
    expect(pg.resources.limits['ephemeral-storage']).toBe('1Gi');
  });
});

describe('Postgres options', () => {
  test('dev plaintext credentials emit a marked dev-only Secret, when allowed', () => {
    const objects = synthChart(chart => new Postgres(chart, 'db', {
      image: PG_IMAGE,
      allowPlaintextCredentials: true,
      credentials: PostgresCredentials.devOnlyPlaintext({ password: 'dev-password' }),
    }));
    const secret = only(objects, 'Secret');
    expect(secret.metadata.name).toBe('db-dev-credentials');
    expect(secret.metadata.labels['acme.io/dev-only']).toBe('true');
    expect(secret.stringData).toEqual({ username: 'app', password: 'dev-password' });
    expect(schema.errors(secret)).toEqual([]);
  });

  test('backup CronJob dumps with pg_dump to a retained PVC and may reach the database', () => {
    const objects = synthChart(chart => new Postgres(chart, 'db', {
      image: PG_IMAGE, credentials: EXISTING_SECRET, backup: { retentionDays: 3 },
    }));
    const cron = only(objects, 'CronJob', 'db-backup');
    const pod = podSpecsOf(cron)[0];
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(container(pod, 'pg-dump').command.join(' ')).toMatch(/pg_dump --format=custom[\s\S]*-mtime \+3 -delete/);
    // It waits for the database first: a new pod's NetworkPolicy rules can lag behind its start.
    expect(container(pod, 'pg-dump').command.join(' ')).toMatch(/for i in \$\(seq 60\); do pg_isready --timeout=2 --quiet && break; sleep 1; done\nfile=/);
    expect(pod.volumes.find((v: any) => v.name === 'backups').persistentVolumeClaim.claimName).toBe('db-backup');
    expect(only(objects, 'PersistentVolumeClaim').metadata.annotations['argocd.argoproj.io/sync-options']).toContain('Prune=false');
    expect(restrictedViolations(pod)).toEqual([]);
    const backupPolicy = only(objects, 'NetworkPolicy', 'db-backup');
    expect(backupPolicy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(backupPolicy.spec.ingress).toBeUndefined();
    expect(backupPolicy.spec.egress[1]).toEqual({ to: [{ podSelector: { matchLabels: only(objects, 'StatefulSet').spec.selector.matchLabels } }], ports: [{ port: 5432, protocol: 'TCP' }] });
    expect(cron.spec.startingDeadlineSeconds).toBe(3600);
    const peers = only(objects, 'NetworkPolicy', 'db').spec.ingress[0].from.map((f: any) => f.podSelector.matchLabels);
    expect(peers).toContainEqual({ 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/component': 'backup' });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('metrics sidecar serves port 9187 to the monitoring namespace only, announced by scrape annotations', () => {
    const objects = synthChart(chart => new Postgres(chart, 'db', {
      image: PG_IMAGE,
      credentials: EXISTING_SECRET,
      metrics: { image: EXPORTER_IMAGE },
    }));
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    const metrics = container(pod, 'metrics');
    expect(metrics.ports[0].containerPort).toBe(9187);
    expect(metrics.livenessProbe).not.toEqual(metrics.readinessProbe);
    expect(metrics.env.map((e: any) => e.name)).toEqual(['DATA_SOURCE_URI', 'DATA_SOURCE_USER', 'DATA_SOURCE_PASS']);
    expect(restrictedViolations(pod)).toEqual([]);
    expect(only(objects, 'NetworkPolicy', 'db').spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 9187, protocol: 'TCP' }],
    }]);
    expect(only(objects, 'StatefulSet').spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9187',
      'prometheus.io/path': '/metrics',
    });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('metrics scrapers replace the monitoring namespace, next to the database clients', () => {
    const objects = synthChart(chart => {
      const db = new Postgres(chart, 'db', {
        image: PG_IMAGE,
        credentials: EXISTING_SECRET,
        metrics: {
          image: EXPORTER_IMAGE,
          scrapers: [NetworkPeer.pods({ 'app.kubernetes.io/name': 'prometheus' }, 'observability'), NetworkPeer.namespace('monitoring')],
        },
      });
      db.allowConnectionsFrom('todo', NetworkPeer.pods({ app: 'todo' }));
    });
    const policy = only(objects, 'NetworkPolicy', 'db');
    expect(policy.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { app: 'todo' } } }], ports: [{ port: 5432, protocol: 'TCP' }] },
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        ],
        ports: [{ port: 9187, protocol: 'TCP' }],
      },
    ]);
    expect(schema.errors(policy)).toEqual([]);
  });

  test('a connected service gets every connection variable with its envPrefix', () => {
    const objects = synthChart(chart => {
      const db = new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET });
      new GoWebService(chart, 'web', { image: APP_IMAGE }).connectToPostgres(db, { envPrefix: 'REPORTS_', sslMode: 'verify-full' });
    });
    expect(only(objects, 'Deployment', 'web').spec.template.spec.containers[0].env).toEqual([
      { name: 'REPORTS_PGHOST', value: 'db' },
      { name: 'REPORTS_PGPORT', value: '5432' },
      { name: 'REPORTS_PGDATABASE', value: 'app' },
      { name: 'REPORTS_PGUSER', valueFrom: { secretKeyRef: { name: 'db-login', key: 'username' } } },
      { name: 'REPORTS_PGPASSWORD', valueFrom: { secretKeyRef: { name: 'db-login', key: 'password' } } },
      { name: 'REPORTS_PGSSLMODE', value: 'verify-full' },
    ]);
  });
});
