import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import {
  ContainerImage, GoWebService, NetworkPeer, ObjectStoreCredentials, PostgresCluster, PostgresClusterProps, PostgresCredentials,
  SealedSecretFile, SealingCertificate, SealingScope,
} from '../src';
import { APP_IMAGE, digestOf } from './support/fixtures';
import { SchemaValidator } from './support/schema';
import { makeSealingKey } from './support/sealing';
import { container, only, synthChart } from './support/synth';

const schema = new SchemaValidator();
const IMAGE = ContainerImage.fromDigest('ghcr.io/acme/postgres-cnpg', digestOf('cnpg'));
const BASE: PostgresClusterProps = { image: IMAGE, postgresVersion: '16.4' };
const STORE = {
  endpointUrl: 'http://versitygw.storage:7070',
  destinationPath: 's3://backups/todo',
  credentials: ObjectStoreCredentials.fromExistingSecret('backup-s3'),
  network: NetworkPeer.pods({ app: 'versitygw' }, 'storage'),
};

/** STORE as barman-cloud's configuration renders it, in the Cluster or in the plugin's ObjectStore. */
const STORE_CONFIGURATION = {
  endpointURL: 'http://versitygw.storage:7070',
  destinationPath: 's3://backups/todo',
  s3Credentials: { accessKeyId: { name: 'backup-s3', key: 'ACCESS_KEY_ID' }, secretAccessKey: { name: 'backup-s3', key: 'ACCESS_SECRET_KEY' } },
};

function cluster(props: Partial<PostgresClusterProps> = {}, build?: (c: Chart, db: PostgresCluster) => void): any[] {
  return synthChart(c => {
    const db = new PostgresCluster(c, 'db', { ...BASE, ...props });
    build?.(c, db);
  });
}

const failure = (props: Partial<PostgresClusterProps>) => () => cluster(props);

describe('PostgresCluster defaults', () => {
  const objects = cluster();
  const spec = only(objects, 'Cluster', 'db').spec;

  test('a Cluster and a NetworkPolicy, schema-valid against the vendored CRD; no Secret', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Cluster/db', 'NetworkPolicy/db']);
    expect(only(objects, 'Cluster').apiVersion).toBe('postgresql.cnpg.io/v1');
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('3 instances, spread over nodes by a required anti-affinity, with the operator\'s PodDisruptionBudget', () => {
    expect(spec.instances).toBe(3);
    expect(spec.affinity).toEqual({ enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' });
    expect(spec.enablePDB).toBe(true);
  });

  test('a rolling update switches over to an updated standby (not CloudNativePG\'s in-place restart of the primary), with no one to approve it', () => {
    expect(spec.primaryUpdateMethod).toBe('switchover');
    expect(spec.primaryUpdateStrategy).toBe('unsupervised');
  });

  test('the image carries the version tag CloudNativePG reads, and the digest that is pulled', () => {
    expect(spec.imageName).toBe(`ghcr.io/acme/postgres-cnpg:16.4@${digestOf('cnpg')}`);
  });

  test('runs as 26 with the RuntimeDefault seccomp profile; storage, resources, an initdb database owned by app', () => {
    expect(spec).toMatchObject({ postgresUID: 26, postgresGID: 26, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.storage).toEqual({ size: '1Gi' });
    expect(spec.walStorage).toBeUndefined();
    expect(spec.resources).toEqual({
      requests: { 'cpu': '250m', 'memory': '512Mi', 'ephemeral-storage': '1Gi' },
      limits: { 'cpu': '1', 'memory': '1Gi', 'ephemeral-storage': '1Gi' },
    });
    expect(spec.bootstrap).toEqual({ initdb: { database: 'app', owner: 'app' } });
    expect(spec.postgresql).toEqual({});
    expect(spec.backup).toBeUndefined();
    expect(spec.monitoring).toBeUndefined();
    expect(spec.inheritedMetadata.labels['app.kubernetes.io/name']).toBe('db');
  });

  test('connection: <name>-rw, <name>-ro, 5432, TLS required, the operator\'s <name>-app Secret', () => {
    const c = Testing.chart();
    const db = new PostgresCluster(c, 'db', BASE);
    expect(db.host).toBe('db-rw');
    expect(db.readOnlyHost).toBe('db-ro');
    expect(db.port).toBe(5432);
    expect(db.sslMode).toBe('require');
    expect(db.databaseName).toBe('app');
    expect(db.login).toEqual({ secretName: 'db-app', usernameKey: 'username', passwordKey: 'password', revision: undefined });
  });

  test('NetworkPolicy: instances to each other and the operator\'s namespace on 5432 and 8000; egress DNS, instances, API server', () => {
    const policy = only(objects, 'NetworkPolicy', 'db');
    const self = { podSelector: { matchLabels: { 'cnpg.io/cluster': 'db' } } };
    const operator = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cnpg-system' } } };
    const rule = (peer: any, port: number) => ({ from: [peer], ports: [{ port, protocol: 'TCP' }] });
    expect(policy.spec.podSelector).toEqual(self.podSelector);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([rule(self, 5432), rule(self, 8000), rule(operator, 8000), rule(operator, 5432)]);
    const egress = policy.spec.egress.map((r: any) => `${JSON.stringify(r.to)}:${r.ports.map((p: any) => p.port).join(',')}`);
    expect(egress).toEqual([
      '[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}}}]:53,53',
      `[${JSON.stringify(self)}]:5432`,
      `[${JSON.stringify(self)}]:8000`,
      '[{"ipBlock":{"cidr":"0.0.0.0/0"}}]:443',
      '[{"ipBlock":{"cidr":"0.0.0.0/0"}}]:6443',
    ]);
  });
});

describe('PostgresCluster options', () => {
  test('synchronous replication, WAL storage, parameters, preferred anti-affinity on zones, no PDB, sync wave, the primary restarted in place', () => {
    const objects = cluster({
      instances: 3,
      synchronous: { method: 'first', number: 2, dataDurability: 'preferred' },
      storageSize: '20Gi',
      storageClassName: 'local-path',
      walStorageSize: '5Gi',
      parameters: { max_connections: '200' },
      antiAffinity: 'preferred',
      topologyKey: 'topology.kubernetes.io/zone',
      enablePodDisruptionBudget: false,
      postgresUid: 999,
      postgresGid: 999,
      syncWave: 3,
      operatorNamespace: 'postgres-operator',
      apiServer: NetworkPeer.ipBlock('172.18.0.0/16'),
      smartShutdownTimeout: Duration.seconds(20),
      primaryUpdateMethod: 'restart',
    });
    const c = only(objects, 'Cluster');
    expect(c.spec.smartShutdownTimeout).toBe(20);
    expect(c.spec).toMatchObject({ primaryUpdateMethod: 'restart', primaryUpdateStrategy: 'unsupervised' });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    expect(c.spec.postgresql).toEqual({ parameters: { max_connections: '200' }, synchronous: { method: 'first', number: 2, dataDurability: 'preferred' } });
    expect(c.spec.storage).toEqual({ size: '20Gi', storageClass: 'local-path' });
    expect(c.spec.walStorage).toEqual({ size: '5Gi', storageClass: 'local-path' });
    expect(c.spec.affinity).toMatchObject({ podAntiAffinityType: 'preferred', topologyKey: 'topology.kubernetes.io/zone' });
    expect(c.spec).toMatchObject({ enablePDB: false, postgresUID: 999, postgresGID: 999 });
    for (const o of objects) expect(o.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('3');
    const policy = only(objects, 'NetworkPolicy');
    expect(JSON.stringify(policy.spec.ingress)).toContain('postgres-operator');
    expect(policy.spec.egress.filter((r: any) => r.to[0].ipBlock?.cidr === '172.18.0.0/16').map((r: any) => r.ports[0].port)).toEqual([443, 6443]);
  });

  test('synchronous defaults: any 1, required', () => {
    const spec = only(cluster({ instances: 2, synchronous: {} }), 'Cluster').spec;
    expect(spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
  });

  test('backup: barmanObjectStore with the Secret\'s keys, retention, archive_timeout, a ScheduledBackup taken now and on schedule, egress to the store', () => {
    const objects = cluster({ backup: { objectStore: STORE, retention: '14d', schedule: '0 30 2 * * *', walArchiveTimeout: '60s' } });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    const spec = only(objects, 'Cluster').spec;
    expect(spec.backup).toEqual({
      retentionPolicy: '14d',
      barmanObjectStore: { ...STORE_CONFIGURATION, wal: { compression: 'gzip' } },
    });
    expect(spec.postgresql.parameters).toEqual({ archive_timeout: '60s' });
    const scheduled = only(objects, 'ScheduledBackup', 'db');
    expect(scheduled.apiVersion).toBe('postgresql.cnpg.io/v1');
    expect(scheduled.spec).toEqual({ cluster: { name: 'db' }, schedule: '0 30 2 * * *', method: 'barmanObjectStore', immediate: true, backupOwnerReference: 'self' });
    const egress = only(objects, 'NetworkPolicy').spec.egress;
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storage' } }, podSelector: { matchLabels: { app: 'versitygw' } } }],
      ports: [{ port: 7070, protocol: 'TCP' }],
    });
  });

  test('backup defaults: 30d retention, midnight, archive_timeout 5min; https endpoint on 443', () => {
    const objects = cluster({ backup: { objectStore: { ...STORE, endpointUrl: 'https://s3.eu-west-1.amazonaws.com', network: NetworkPeer.ipBlock('52.0.0.0/8') } } });
    const spec = only(objects, 'Cluster').spec;
    expect(spec.backup.retentionPolicy).toBe('30d');
    expect(spec.postgresql.parameters.archive_timeout).toBe('5min');
    expect(only(objects, 'ScheduledBackup').spec.schedule).toBe('0 0 0 * * *');
    expect(only(objects, 'NetworkPolicy').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '52.0.0.0/8' } }], ports: [{ port: 443, protocol: 'TCP' }] });
  });

  test('restore: bootstrap.recovery from an external cluster\'s object store up to targetTime, backed up under a new name', () => {
    const objects = cluster({
      name: 'db2',
      restore: { fromBackupOf: { ...STORE, clusterName: 'db' }, targetTime: '2026-07-01T10:15:00Z' },
      backup: { objectStore: STORE },
    });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    const spec = only(objects, 'Cluster', 'db2').spec;
    expect(spec.bootstrap).toEqual({ recovery: { source: 'db', database: 'app', owner: 'app', recoveryTarget: { targetTime: '2026-07-01T10:15:00Z' } } });
    expect(spec.externalClusters).toEqual([{
      name: 'db',
      barmanObjectStore: { ...STORE_CONFIGURATION, serverName: 'db' },
    }]);
  });

  test('backup with the Barman Cloud plugin: an ObjectStore with the store and retention, the Cluster naming it as its WAL archiver, a plugin ScheduledBackup', () => {
    const objects = cluster({ backup: { method: 'plugin', objectStore: STORE, retention: '14d', walArchiveTimeout: '60s' } });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    const spec = only(objects, 'Cluster').spec;
    expect(spec.backup).toBeUndefined();
    expect(spec.plugins).toEqual([{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'db-backup' } }]);
    expect(spec.postgresql.parameters).toEqual({ archive_timeout: '60s' });
    const store = only(objects, 'ObjectStore', 'db-backup');
    expect(store.apiVersion).toBe('barmancloud.cnpg.io/v1');
    expect(store.spec).toEqual({
      retentionPolicy: '14d',
      configuration: { ...STORE_CONFIGURATION, wal: { compression: 'gzip' } },
    });
    expect(only(objects, 'ScheduledBackup').spec).toMatchObject({ method: 'plugin', pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' }, immediate: true });
    // The plugin's sidecar runs in the instance pods: their egress to the store is the same.
    expect(only(objects, 'NetworkPolicy').spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storage' } }, podSelector: { matchLabels: { app: 'versitygw' } } }],
      ports: [{ port: 7070, protocol: 'TCP' }],
    });
  });

  test('restore with the plugin: the source\'s ObjectStore, named by the external cluster; the method follows backup unless given', () => {
    const objects = cluster({
      name: 'db2',
      restore: { fromBackupOf: { ...STORE, clusterName: 'db' }, targetTime: '2026-07-01T10:15:00Z' },
      backup: { method: 'plugin', objectStore: STORE },
    });
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    expect(only(objects, 'Cluster', 'db2').spec.externalClusters).toEqual([{
      name: 'db',
      plugin: { name: 'barman-cloud.cloudnative-pg.io', parameters: { barmanObjectName: 'db2-restore', serverName: 'db' } },
    }]);
    expect(only(objects, 'ObjectStore', 'db2-restore').spec.configuration.destinationPath).toBe('s3://backups/todo');
    // Restoring what the in-tree support wrote, with the plugin archiving from then on: the layout is the same.
    const mixed = cluster({
      name: 'db2',
      restore: { fromBackupOf: { ...STORE, clusterName: 'db', method: 'barmanObjectStore' } },
      backup: { method: 'plugin', objectStore: STORE },
    });
    expect(only(mixed, 'Cluster', 'db2').spec.externalClusters[0].barmanObjectStore.serverName).toBe('db');
    expect(mixed.filter(o => o.kind === 'ObjectStore').map(o => o.metadata.name)).toEqual(['db2-backup']);
  });

  test('a backup method that is neither names the construct and the value', () => {
    expect(failure({ backup: { method: 'wal-g' as any, objectStore: STORE } })).toThrow(/db.*backup\.method "wal-g" is not a backup method: use "plugin"/s);
  });

  test('metrics: scrape annotations on the pods, the metrics port open to the scrapers', () => {
    const objects = cluster({ metrics: { scrapers: [NetworkPeer.namespace('observability')] } });
    const spec = only(objects, 'Cluster').spec;
    expect(spec.monitoring).toEqual({ enablePodMonitor: false });
    expect(spec.inheritedMetadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9187', 'prometheus.io/path': '/metrics' });
    expect(only(objects, 'NetworkPolicy').spec.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }],
      ports: [{ port: 9187, protocol: 'TCP' }],
    });
    expect(only(cluster({ metrics: { enablePodMonitor: true } }), 'Cluster').spec).toMatchObject({ monitoring: { enablePodMonitor: true } });
  });

  test('user credentials: an existing Secret becomes the owner\'s via bootstrap.initdb.secret', () => {
    const c = Testing.chart();
    const db = new PostgresCluster(c, 'db', { ...BASE, owner: 'todo', credentials: PostgresCredentials.fromExistingSecret('todo-login') });
    const spec = only(Testing.synth(c), 'Cluster').spec;
    expect(spec.bootstrap.initdb).toEqual({ database: 'app', owner: 'todo', secret: { name: 'todo-login' } });
    expect(db.login.secretName).toBe('todo-login');
  });

  test('dev plaintext: a dev-only basic-auth Secret one wave early, only with allowPlaintextCredentials', () => {
    const credentials = PostgresCredentials.devOnlyPlaintext({ password: 'devdevdev' });
    expect(failure({ credentials })).toThrow(/^test\/db: credentials are a plaintext password, which would be committed to git; leave credentials unset/);
    const objects = cluster({ credentials, allowPlaintextCredentials: true });
    const secret = only(objects, 'Secret', 'db-dev-credentials');
    expect(secret).toMatchObject({ type: 'kubernetes.io/basic-auth', stringData: { username: 'app', password: 'devdevdev' } });
    expect(secret.metadata.labels['acme.io/dev-only']).toBe('true');
    expect(secret.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-1');
    expect(only(objects, 'Cluster').spec.bootstrap.initdb.secret).toEqual({ name: 'db-dev-credentials' });
  });
});

describe('sealed Secrets', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'postgres-cluster-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  makeSealingKey(tmp, path.join(tmp, 'key.pem'), 2048);
  const certificate = SealingCertificate.fromFile(path.join(tmp, 'certificate.pem'));
  const seal = (name: string, values: Record<string, string>) => {
    const file = path.join(tmp, `${name}.yaml`);
    SealedSecretFile.write(file, {
      name,
      namespace: 'todo-prod',
      scope: SealingScope.STRICT,
      sealedWith: certificate.fingerprint,
      encryptedData: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, certificate.seal(Buffer.from(v), 'todo-prod', name, SealingScope.STRICT)])),
    });
    return SealedSecretFile.fromFile(file);
  };

  test('a sealed login and a sealed object-store key shared by backup and restore: each SealedSecret once, a wave early; clients roll with the login', () => {
    const login = seal('todo-login', { username: 'app', password: 'correct horse battery staple' });
    const s3 = seal('backup-s3', { ACCESS_KEY_ID: 'a', ACCESS_SECRET_KEY: 'b' });
    const store = { ...STORE, credentials: ObjectStoreCredentials.fromSealedSecret(s3) };
    const c = new Chart(Testing.app(), 'todo', { namespace: 'todo-prod', disableResourceNameHashes: true });
    const db = new PostgresCluster(c, 'db', {
      ...BASE,
      name: 'db2',
      credentials: PostgresCredentials.fromSealedSecret(login),
      backup: { objectStore: store },
      restore: { fromBackupOf: { ...store, clusterName: 'db' } },
    });
    const web = new GoWebService(c, 'todo', { image: APP_IMAGE });
    web.connectToPostgres(db);
    const objects = Testing.synth(c);
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
    expect(objects.filter(o => o.kind === 'SealedSecret').map(o => `${o.metadata.name}@${o.metadata.annotations['argocd.argoproj.io/sync-wave']}`).sort())
      .toEqual(['backup-s3@-1', 'todo-login@-1']);
    expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
    expect(only(objects, 'Cluster').spec.bootstrap.recovery.secret).toEqual({ name: 'todo-login' });
    expect(db.login.revision).toMatch(/^[0-9a-f]{16}$/);
    expect(only(objects, 'Deployment').spec.template.metadata.annotations['acme.io/secrets-revision']).toBe(db.login.revision);
  });

  test('a sealed login without the keys CloudNativePG reads is refused', () => {
    const login = seal('odd-login', { user: 'app', password: 'correct horse battery staple' });
    const c = new Chart(Testing.app(), 'todo', { namespace: 'todo-prod', disableResourceNameHashes: true });
    expect(() => new PostgresCluster(c, 'db', { ...BASE, credentials: PostgresCredentials.fromSealedSecret(login) }))
      .toThrow(/^todo\/db\/SealedCredentials: .*odd-login.yaml lacks the key\(s\) username/);
  });
});

describe('connectToPostgres from a GoWebService', () => {
  const objects = synthChart(c => {
    const db = new PostgresCluster(c, 'todo-db', BASE);
    new GoWebService(c, 'todo', { image: APP_IMAGE }).connectToPostgres(db);
  });
  const deployment = only(objects, 'Deployment', 'todo');
  const env = Object.fromEntries(container(deployment.spec.template.spec, 'app').env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

  test('PGHOST is the read-write Service, the login comes from <name>-app, TLS is required', () => {
    expect(env).toMatchObject({
      PGHOST: 'todo-db-rw',
      PGPORT: '5432',
      PGDATABASE: 'app',
      PGSSLMODE: 'require',
      PGUSER: { secretKeyRef: { name: 'todo-db-app', key: 'username' } },
      PGPASSWORD: { secretKeyRef: { name: 'todo-db-app', key: 'password' } },
    });
  });

  test('the service may reach the instances on 5432, and they admit it; it syncs a wave after the cluster', () => {
    const web = only(objects, 'NetworkPolicy', 'todo');
    expect(web.spec.egress).toContainEqual({ to: [{ podSelector: { matchLabels: { 'cnpg.io/cluster': 'todo-db' } } }], ports: [{ port: 5432, protocol: 'TCP' }] });
    const db = only(objects, 'NetworkPolicy', 'todo-db');
    expect(db.spec.ingress).toContainEqual({ from: [{ podSelector: { matchLabels: web.spec.podSelector.matchLabels } }], ports: [{ port: 5432, protocol: 'TCP' }] });
    expect(deployment.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('1');
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });
});

describe('PostgresCluster validation', () => {
  test.each<[string, Partial<PostgresClusterProps>, RegExp]>([
    ['synchronous replication with one instance', { instances: 1, synchronous: {} },
      /^test\/db: synchronous replication needs a standby, but instances is 1: set instances to 2 or more/],
    ['more synchronous standbys than there are', { instances: 3, synchronous: { number: 3 } },
      /^test\/db: synchronous.number 3 is out of range: use an integer from 1 to 2/],
    ['no instance', { instances: 0 }, /^test\/db: instances 0 is out of range/],
    ['a retention that is not a duration', { backup: { objectStore: STORE, retention: '30 days' } },
      /^test\/db: backup.retention "30 days" is invalid: write days, weeks or months like "30d"/],
    ['a five-field schedule', { backup: { objectStore: STORE, schedule: '0 3 * * *' } },
      /^test\/db: backup.schedule "0 3 \* \* \*" is not a six-field cron expression: .* write "0 0 3 \* \* \*"/],
    ['an archive timeout without a unit', { backup: { objectStore: STORE, walArchiveTimeout: '300' } },
      /^test\/db: backup.walArchiveTimeout "300" is invalid/],
    ['a destination that is not s3://', { backup: { objectStore: { ...STORE, destinationPath: 'backups/todo' } } },
      /^test\/db: backup.objectStore.destinationPath "backups\/todo" is not an S3 location/],
    ['an endpoint with a path', { backup: { objectStore: { ...STORE, endpointUrl: 'https://s3.example.com/bucket' } } },
      /^test\/db: backup.objectStore.endpointUrl "https:\/\/s3.example.com\/bucket" is not an S3 endpoint/],
    ['a restore target without a source', { restore: { targetTime: '2026-07-01T10:15:00Z' } as any },
      /^test\/db: restore has no fromBackupOf: name the cluster and object store whose backup is restored up to 2026-07-01T10:15:00Z/],
    ['a target time without an offset', { restore: { fromBackupOf: { ...STORE, clusterName: 'old' }, targetTime: '2026-07-01 10:15:00' } },
      /^test\/db: restore.targetTime "2026-07-01 10:15:00" is not an RFC 3339 time with an offset/],
    ['a restore archiving over its own source', { restore: { fromBackupOf: { ...STORE, clusterName: 'db' } }, backup: { objectStore: STORE } },
      /^test\/db: restore reads the backup of "db" from s3:\/\/backups\/todo, where this cluster, of the same name, would archive too/],
    ['a version CloudNativePG cannot read', { postgresVersion: 'latest' }, /^test\/db: postgresVersion "latest" is not a Postgres version/],
    ['a tagged image in prod', { image: ContainerImage.fromTag('ghcr.io/acme/postgres-cnpg', '16.4') }, /^test\/db: image ghcr.io\/acme\/postgres-cnpg:16.4 is referenced by tag/],
    ['a tagged dev image whose tag hides the version', { image: ContainerImage.fromTag('ghcr.io/acme/postgres-cnpg', 'latest'), allowUnpinnedImage: true },
      /^test\/db: image ghcr.io\/acme\/postgres-cnpg:latest has a tag that does not start with postgresVersion "16.4"/],
    ['a name CloudNativePG refuses', { name: 'a'.repeat(51) }, /^test\/db: name "a{51}" is longer than 50 characters/],
    ['login keys CloudNativePG does not read', { credentials: PostgresCredentials.fromExistingSecret('login', { usernameKey: 'user' }) },
      /^test\/db: credentials use the keys "user" and "password", but CloudNativePG reads only "username" and "password"/],
    ['a dev login for another user', { credentials: PostgresCredentials.devOnlyPlaintext({ username: 'bob', password: 'devdevdev' }), allowPlaintextCredentials: true },
      /^test\/db: the dev login's user "bob" is not the owner "app"/],
    ['a bad topology key', { topologyKey: 'zone/' }, /^test\/db: topologyKey "zone\/" is not a valid label key/],
    ['a smart shutdown as long as the whole stop', { smartShutdownTimeout: Duration.minutes(30) },
      /^test\/db: smartShutdownTimeout of 1800 seconds is out of range: use whole seconds from 1 to 1740/],
    ['a smart shutdown in fractions of a second', { smartShutdownTimeout: Duration.millis(1500) }, /^test\/db: smartShutdownTimeout of 1.5 seconds is out of range/],
  ])('%s', (_what, props, message) => {
    expect(failure(props)).toThrow(message);
  });

  test('a client admitted twice', () => {
    const c = Testing.chart();
    const db = new PostgresCluster(c, 'db', BASE);
    db.allowConnectionsFrom('web', NetworkPeer.sameNamespace());
    expect(() => db.allowConnectionsFrom('web', NetworkPeer.sameNamespace())).toThrow(/^test\/db: client "web" is already allowed/);
  });
});
