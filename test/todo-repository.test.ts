import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GitOpsRepository, ImageLock, NetworkPeer, ObjectStoreCredentials, SealingCertificate } from '../src';
import { podSpecsOf, restrictedViolations } from './support/pod-security';
import { SchemaValidator } from './support/schema';
import { listFiles, readManifests, snapshotTree } from './support/synth';
import { outOfBandSecrets } from '../src/gitops/out-of-band-secrets';
import { TODO_ENVIRONMENTS as ENVIRONMENTS, TODO_GIT, TodoSettings } from '../todo/environments';
import { TODO_PLATFORM, TODO_REPOSITORY } from '../todo/repository';
import { buildTodoStack } from '../todo/todo-stack';

const ROOT = path.resolve(__dirname, '..');
const COMMITTED = path.join(ROOT, 'dist');
const LOCK = ImageLock.fromFile(path.join(ROOT, 'images.lock.json'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'app-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const first = path.join(tmp, 'first');
const second = path.join(tmp, 'second');
TODO_REPOSITORY.synth({ outdir: first, helmDir: path.join(tmp, 'helm'), tankaDir: path.join(tmp, 'tanka'), lock: LOCK });
TODO_REPOSITORY.synth({ outdir: second, helmDir: path.join(tmp, 'helm-second'), tankaDir: path.join(tmp, 'tanka-second'), lock: LOCK });
const manifests = readManifests(first);
const envDirs = ENVIRONMENTS.map(e => e.name);
const inEnv = (env: string) => manifests.filter(m => m.file.startsWith(`${env}/`)).map(m => m.object);

describe('the synthesized GitOps tree', () => {
  test('lays out one directory per environment plus apps/, bootstrap/ and platform/ (the Sealed Secrets controller)', () => {
    expect(fs.readdirSync(first).sort()).toEqual([...envDirs, 'apps', 'bootstrap', 'platform'].sort());
  });

  test('synth twice is byte-identical', () => {
    expect(snapshotTree(second)).toEqual(snapshotTree(first));
    expect(snapshotTree(path.join(tmp, 'helm-second'))).toEqual(snapshotTree(path.join(tmp, 'helm')));
    expect(snapshotTree(path.join(tmp, 'tanka-second'))).toEqual(snapshotTree(path.join(tmp, 'tanka')));
  });

  test('the committed dist/ equals a fresh synth (run `npm run synth` and commit)', () => {
    expect(snapshotTree(COMMITTED)).toEqual(snapshotTree(first));
  });

  test('the committed Helm chart equals a fresh synth and sits outside dist/', () => {
    expect(snapshotTree(path.join(ROOT, 'helm', 'todo'))).toEqual(snapshotTree(path.join(tmp, 'helm')));
    expect(listFiles(COMMITTED).some(f => f.includes('Chart.yaml'))).toBe(false);
  });

  test('the committed Tanka project equals a fresh synth (run `npm run synth` and commit)', () => {
    const fresh = snapshotTree(path.join(tmp, 'tanka'));
    expect(Object.keys(fresh)).toEqual(expect.arrayContaining(envDirs.flatMap(env => [`environments/${env}/spec.json`, `environments/${env}/main.jsonnet`, `lib/todo/${env}.json`])));
    expect(snapshotTree(path.join(ROOT, 'tanka'))).toEqual(fresh);
  });

  test('the Helm chart templates image, replicas, resources and storage from per-environment values', () => {
    const prod = fs.readFileSync(path.join(tmp, 'helm', 'templates', 'prod.yaml'), 'utf-8');
    for (const value of [
      '.Values.deployments.todo.containers.app.image', '.Values.deployments.todo.containers.app.resources.limits.memory',
      '.Values.deployments.todo.autoscaling.maxReplicas', 'index .Values "postgresClusters" "todo-db" "image"',
      'index .Values "postgresClusters" "todo-db" "instances"', 'index .Values "postgresClusters" "todo-db" "storage" "data"',
      'index .Values "postgresClusters" "todo-db" "resources" "requests" "memory"',
    ]) {
      expect(prod).toContain(`{{ ${value} | toJson }}`);
    }
    const dev = fs.readFileSync(path.join(tmp, 'helm', 'templates', 'dev.yaml'), 'utf-8');
    expect(dev).toContain('{{ .Values.deployments.todo.replicas | toJson }}');
    expect(dev).toContain('{{ index .Values "statefulSets" "todo-db" "containers" "postgres" "image" | toJson }}');
    expect(fs.readFileSync(path.join(tmp, 'helm', 'values.yaml'), 'utf-8')).toContain('environment: prod');
  });

  test('has no empty lists or maps, which the API server drops (a perpetual Argo CD diff)', () => {
    const empties: string[] = [];
    const walk = (v: any, at: string) => {
      if (Array.isArray(v)) {
        if (v.length === 0) empties.push(at);
        v.forEach((x, i) => walk(x, `${at}[${i}]`));
      } else if (v !== null && typeof v === 'object') {
        // An empty emptyDir, an empty podSelector (all pods of the namespace) and a CRD's empty
        // subresources.status (the status subresource turned on) are meaningful and kept by the server.
        if (Object.keys(v).length === 0 && !at.endsWith('.emptyDir') && !at.endsWith('.podSelector') && !at.endsWith('.subresources.status')) empties.push(at);
        for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
      }
    };
    for (const m of manifests) walk(m.object, `${m.file}:${m.object.kind}/${m.object.metadata.name}`);
    expect(empties).toEqual([]);
  });

  test('has no timestamps or generated hashes in names', () => {
    for (const { object } of manifests) {
      expect(object.metadata.name).not.toMatch(/-c8[0-9a-f]{6}$/);
      expect(object.metadata.creationTimestamp).toBeUndefined();
    }
  });

  test('every object is valid against the Kubernetes 1.27 schema or the Argo CD CRDs', () => {
    const schema = new SchemaValidator();
    const errors = manifests.flatMap(m => schema.errors(m.object).map(e => `${m.file}: ${e}`));
    expect(errors).toEqual([]);
    expect(manifests.length).toBeGreaterThan(30);
  });

  test('every pod meets the restricted Pod Security Standard', () => {
    const pods = manifests.flatMap(m => podSpecsOf(m.object).map(p => ({ file: m.file, name: m.object.metadata.name, p })));
    // Two web tiers, dev's Postgres and the two controllers; CloudNativePG renders its instances' pods itself (postgres-cluster.test.ts).
    expect(pods.length).toBeGreaterThanOrEqual(6);
    for (const { file, name, p } of pods) expect({ file, name, violations: restrictedViolations(p) }).toEqual({ file, name, violations: [] });
  });

  test.each(ENVIRONMENTS.map(e => [e.name, e.namespace]))('%s: every object is in namespace %s', (env, ns) => {
    const objects = inEnv(env);
    expect(objects.length).toBeGreaterThan(8);
    for (const o of objects) expect(o.metadata.namespace).toBe(ns);
  });

  test.each(['staging', 'prod'])('%s pins every image by digest and commits no Secret', env => {
    const objects = inEnv(env);
    const images = [
      ...objects.flatMap(o => podSpecsOf(o)).flatMap(p => p.containers.map((c: any) => c.image)),
      ...objects.filter(o => o.kind === 'Cluster').map(o => o.spec.imageName),
    ];
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
    const literalSecrets = objects.flatMap(o => podSpecsOf(o)).flatMap(p => p.containers.flatMap((c: any) => c.env ?? []))
      .filter((e: any) => /PASS/.test(e.name) && e.value !== undefined);
    expect(literalSecrets).toEqual([]);
  });

  test('dev carries its plaintext login only in a Secret marked dev-only', () => {
    const secrets = inEnv('dev').filter(o => o.kind === 'Secret');
    expect(secrets).toHaveLength(1);
    expect(secrets[0].metadata.labels['acme.io/dev-only']).toBe('true');
  });

  test('prod scales with an HPA and stores more than dev', () => {
    expect(inEnv('prod').some(o => o.kind === 'HorizontalPodAutoscaler')).toBe(true);
    expect(inEnv('prod').find(o => o.kind === 'Cluster').spec.storage.size).toBe('20Gi');
    expect(inEnv('dev').find(o => o.kind === 'StatefulSet').spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
  });

  test('dev runs Postgres in a StatefulSet; staging and prod on CloudNativePG, prod with a synchronous standby required', () => {
    const engine = (env: string) => inEnv(env).filter(o => ['StatefulSet', 'Cluster'].includes(o.kind)).map(o => o.kind);
    expect(engine('dev')).toEqual(['StatefulSet']);
    expect(engine('staging')).toEqual(['Cluster']);
    expect(engine('prod')).toEqual(['Cluster']);
    const cluster = (env: string) => inEnv(env).find(o => o.kind === 'Cluster').spec;
    expect(cluster('staging')).toMatchObject({ instances: 2, postgresql: { synchronous: { method: 'any', number: 1, dataDurability: 'preferred' } } });
    expect(cluster('prod')).toMatchObject({ instances: 3, postgresql: { synchronous: { method: 'any', number: 1, dataDurability: 'required' } } });
    for (const env of ['staging', 'prod']) {
      expect(cluster(env).affinity).toEqual({ enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' });
      const web = inEnv(env).find(o => o.kind === 'Deployment').spec.template.spec.containers[0].env;
      expect(web).toContainEqual({ name: 'PGHOST', value: 'todo-db-rw' });
    }
    expect(cluster('staging').backup).toBeUndefined();
  });

  test('prod archives WAL and takes a daily base backup to S3 with a sealed key, kept 30 days, through the Barman Cloud plugin', () => {
    const objects = inEnv('prod');
    const cluster = objects.find(o => o.kind === 'Cluster').spec;
    expect(cluster.backup).toBeUndefined();
    expect(cluster.plugins).toEqual([{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'todo-db-backup' } }]);
    expect(objects.find(o => o.kind === 'ObjectStore' && o.metadata.name === 'todo-db-backup').spec).toMatchObject({
      retentionPolicy: '30d',
      configuration: {
        endpointURL: 'https://s3.eu-west-1.amazonaws.com',
        destinationPath: 's3://acme-todo-backups/todo-prod',
        s3Credentials: { accessKeyId: { name: 'todo-db-backup', key: 'ACCESS_KEY_ID' }, secretAccessKey: { name: 'todo-db-backup', key: 'ACCESS_SECRET_KEY' } },
      },
    });
    expect(cluster.postgresql.parameters.archive_timeout).toBe('1min');
    expect(objects.find(o => o.kind === 'ScheduledBackup').spec).toMatchObject({
      cluster: { name: 'todo-db' }, schedule: '0 17 3 * * *', immediate: true, method: 'plugin', pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
    });
    const key = objects.find(o => o.kind === 'SealedSecret' && o.metadata.name === 'todo-db-backup');
    expect(Object.keys(key.spec.encryptedData).sort()).toEqual(['ACCESS_KEY_ID', 'ACCESS_SECRET_KEY']);
    expect(key.spec.template.metadata.labels['cnpg.io/reload']).toBe('true');
    expect(outOfBandSecrets(objects)).toEqual([]);
    // S3 anywhere on 443, which is also the API server's rule: one egress rule, not two.
    const egress = objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'todo-db').spec.egress;
    expect(egress.filter((r: any) => r.to[0].ipBlock?.cidr === '0.0.0.0/0' && r.ports[0].port === 443)).toHaveLength(1);
  });

  test('each Application syncs its own environment directory into its namespace', () => {
    const apps = manifests.filter(m => m.file.startsWith('apps/') && m.object.kind === 'Application' && m.object.spec.source.path !== 'dist/platform').map(m => m.object);
    expect(apps.map(a => a.spec.source.path).sort()).toEqual(envDirs.map(e => `dist/${e}`).sort());
    for (const app of apps) {
      const env = ENVIRONMENTS.find(e => `dist/${e.name}` === app.spec.source.path)!;
      expect(app.metadata.name).toBe(`todo-${env.name}`);
      expect(app.spec.source.repoURL).toBe(TODO_GIT.repoUrl);
      expect(app.spec.source.targetRevision).toBe(TODO_GIT.targetRevision);
      expect(app.spec.destination.namespace).toBe(env.namespace);
      expect(app.spec.project).toBe('todo');
      expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(app.spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['CreateNamespace=true', 'ServerSideApply=true']));
      expect(app.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io/foreground']);
    }
    const project = manifests.find(m => m.object.kind === 'AppProject')!.object;
    expect(project.spec.destinations.map((d: any) => d.namespace).sort()).toEqual(ENVIRONMENTS.map(e => e.namespace).sort());
  });

  test('the platform (the Sealed Secrets controller) has its own Application in wave -1, before the environments, and its own AppProject in wave -2', () => {
    const app = manifests.find(m => m.object.kind === 'Application' && m.object.spec.source.path === 'dist/platform')!.object;
    expect(app.metadata).toMatchObject({ name: 'todo-platform', annotations: { 'argocd.argoproj.io/sync-wave': '-1' } });
    expect(app.spec).toMatchObject({ project: 'todo-platform', destination: { namespace: 'sealed-secrets' } });
    // Its project a wave earlier: an Application created before its AppProject waits for Argo CD's next refresh.
    const project = manifests.find(m => m.object.kind === 'AppProject' && m.object.metadata.name === 'todo-platform')!.object;
    expect(project.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '-2' });
    const objects = manifests.filter(m => m.file.startsWith('platform/')).map(m => m.object);
    expect(objects.find(o => o.kind === 'Deployment').spec.template.spec.containers[0].args).toContain('--update-status');
    expect(objects.find(o => o.kind === 'CustomResourceDefinition').metadata.name).toBe('sealedsecrets.bitnami.com');
  });

  test.each(['staging', 'prod'])('%s: the database login is a SealedSecret, sealed with the committed certificate, read by Postgres and the service', env => {
    const sealed = inEnv(env).filter(o => o.kind === 'SealedSecret');
    expect(sealed.map(o => o.metadata.name)).toEqual(env === 'prod' ? ['todo-db-credentials', 'todo-db-backup'] : ['todo-db-credentials']);
    const certificate = SealingCertificate.fromFile(path.join(ROOT, 'sealed-secrets', env, 'certificate.pem'));
    for (const s of sealed) expect(s.metadata.annotations['acme.io/sealed-with']).toBe(certificate.fingerprint);
    const login = sealed[0];
    expect(Object.keys(login.spec.encryptedData).sort()).toEqual(['password', 'username']);
    // CloudNativePG applies a rotated password only to Secrets it watches: those labelled cnpg.io/reload.
    expect(login.spec.template.metadata.labels['cnpg.io/reload']).toBe('true');
    expect(inEnv(env).find(o => o.kind === 'Cluster').spec.bootstrap.initdb).toEqual({ database: 'todo', owner: 'todo', secret: { name: 'todo-db-credentials' } });
    // The web pods restart when the sealed login changes.
    expect(inEnv(env).find(o => o.kind === 'Deployment').spec.template.metadata.annotations['acme.io/secrets-revision']).toMatch(/^[0-9a-f]{16}$/);
  });

  test('the root app points at the directory holding the Applications', () => {
    const root = manifests.find(m => m.file.startsWith('bootstrap/'))!.object;
    expect(root.spec.source.path).toBe('dist/apps');
    expect(fs.existsSync(path.join(first, 'apps'))).toBe(true);
  });
});

describe('images are pinned per environment', () => {
  const withoutTodo = ImageLock.fromDocument({
    version: 1,
    images: Object.fromEntries(['postgres', 'postgres-exporter', 'cloudnative-pg-postgresql'].map(name => [name, LOCK.tryGet(name)!])),
  });
  const only = (environment: string) => new GitOpsRepository<TodoSettings>({
    name: 'todo', ...TODO_GIT, environments: ENVIRONMENTS.filter(e => e.name === environment), stack: buildTodoStack,
  });

  test.each(['staging', 'prod'])('%s refuses a todo image missing from the lock', environment => {
    const out = path.join(tmp, `unpinned-${environment}`);
    expect(() => only(environment).synth({ outdir: out, lock: withoutTodo })).toThrow(
      new RegExp(`^todo-${environment}/todo: image "todo" is not pinned in inline image lock`));
    expect(fs.existsSync(out)).toBe(false);
  });

  test('dev falls back to the dev tag when the lock lacks the todo image', () => {
    const out = path.join(tmp, 'unpinned-dev');
    only('dev').synth({ outdir: out, lock: withoutTodo });
    const deployment = readManifests(out).map(m => m.object).find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/todo:dev');
  });
});

describe('prod on CloudNativePG, backed up and restored', () => {
  const store = {
    endpointUrl: 'http://versitygw.backup-store.svc:7070',
    credentials: ObjectStoreCredentials.fromExistingSecret('todo-db-backup'),
    network: NetworkPeer.namespace('backup-store'),
  };
  const synthProd = (settings: Partial<TodoSettings>) => {
    const out = path.join(tmp, `cnpg-${Object.keys(settings).join('-')}`);
    const environments = ENVIRONMENTS.filter(e => e.name === 'prod').map(e => ({ ...e, settings: { ...e.settings, ...settings } }));
    new GitOpsRepository<TodoSettings>({ name: 'todo', ...TODO_GIT, environments, stack: buildTodoStack, platform: TODO_PLATFORM }).synth({ outdir: out, lock: LOCK });
    return readManifests(out).map(m => m.object).filter(o => o.metadata?.namespace === 'todo-prod' || o.kind === 'Cluster');
  };

  test('the Cluster runs the lock\'s cloudnative-pg-postgresql image (its tag\'s major), three instances, one synchronous standby, 15 s smart shutdown', () => {
    const cluster = synthProd({}).find(o => o.kind === 'Cluster');
    const image = LOCK.tryGet('cloudnative-pg-postgresql')!;
    expect(cluster.spec.imageName).toBe(`${image.repository}:15@${image.digest}`);
    expect(cluster.spec).toMatchObject({ instances: 3, smartShutdownTimeout: 15, postgresql: { synchronous: { method: 'any', number: 1, dataDurability: 'required' } } });
  });

  test('databaseBackup archives to the store; databaseRestore bootstraps from another folder up to a time; the S3 Secret is out of band', () => {
    const objects = synthProd({
      databaseBackup: { objectStore: { ...store, destinationPath: 's3://backups/todo-prod-2' } },
      databaseRestore: { fromBackupOf: { ...store, destinationPath: 's3://backups/todo-prod', clusterName: 'todo-db' }, targetTime: '2026-12-02T08:00:00Z' },
    });
    const cluster = objects.find(o => o.kind === 'Cluster');
    expect(cluster.spec.backup.barmanObjectStore).toMatchObject({ destinationPath: 's3://backups/todo-prod-2', endpointURL: store.endpointUrl });
    expect(cluster.spec.bootstrap.recovery).toMatchObject({ source: 'todo-db', database: 'todo', recoveryTarget: { targetTime: '2026-12-02T08:00:00Z' } });
    expect(cluster.spec.externalClusters[0].barmanObjectStore).toMatchObject({ destinationPath: 's3://backups/todo-prod', serverName: 'todo-db' });
    expect(objects.find(o => o.kind === 'ScheduledBackup').spec).toMatchObject({ cluster: { name: 'todo-db' }, immediate: true });
    expect(outOfBandSecrets(objects)).toEqual(['todo-db-backup']);
    const policy = objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'todo-db');
    expect(policy.spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'backup-store' } } }], ports: [{ protocol: 'TCP', port: 7070 }],
    });
    for (const pod of objects.flatMap(podSpecsOf)) expect(restrictedViolations(pod)).toEqual([]);
  });

  test('a lock whose Postgres tag hides the major version is refused', () => {
    const image = LOCK.tryGet('cloudnative-pg-postgresql')!;
    const images = Object.fromEntries(['todo', 'postgres', 'postgres-exporter'].map(n => [n, LOCK.tryGet(n)!]));
    const lock = ImageLock.fromDocument({ version: 1, images: { ...images, 'cloudnative-pg-postgresql': { ...image, tag: 'latest' } } });
    const environments = ENVIRONMENTS.filter(e => e.name === 'prod');
    expect(() => new GitOpsRepository<TodoSettings>({ name: 'todo', ...TODO_GIT, environments, stack: buildTodoStack }).synth({ outdir: path.join(tmp, 'cnpg-latest'), lock }))
      .toThrow(/^todo-prod\/todo-db: image "cloudnative-pg-postgresql" of inline image lock: its tag "latest" does not start with its major version/);
  });
});

describe('a failed synth leaves the output as it was', () => {
  test('in process: a prod image missing from the lock', () => {
    const out = path.join(tmp, 'kept');
    const helm = path.join(tmp, 'kept-helm');
    const tanka = path.join(tmp, 'kept-tanka');
    fs.cpSync(COMMITTED, out, { recursive: true });
    fs.cpSync(path.join(ROOT, 'helm', 'todo'), helm, { recursive: true });
    fs.cpSync(path.join(ROOT, 'tanka'), tanka, { recursive: true });
    const before = [snapshotTree(out), snapshotTree(helm), snapshotTree(tanka)];
    const lock = ImageLock.fromDocument({ version: 1, images: { postgres: LOCK.tryGet('postgres')! } });
    expect(() => TODO_REPOSITORY.synth({ outdir: out, helmDir: helm, tankaDir: tanka, lock })).toThrow(/todo-staging\/todo-db: image "cloudnative-pg-postgresql" of inline image lock: it is not pinned there/);
    expect([snapshotTree(out), snapshotTree(helm), snapshotTree(tanka)]).toEqual(before);
    expect(fs.readdirSync(tmp).filter(f => f.includes('.staging-') || f.includes('.old-'))).toEqual([]);
  });

  test('the synth command with a corrupt lock exits non-zero and keeps dist/, the Helm chart and the Tanka project', () => {
    const out = path.join(tmp, 'cli');
    const helm = path.join(tmp, 'cli-helm');
    const tanka = path.join(tmp, 'cli-tanka');
    fs.cpSync(COMMITTED, out, { recursive: true });
    fs.cpSync(path.join(ROOT, 'helm', 'todo'), helm, { recursive: true });
    fs.cpSync(path.join(ROOT, 'tanka'), tanka, { recursive: true });
    const before = [snapshotTree(out), snapshotTree(helm), snapshotTree(tanka)];
    const corrupt = path.join(tmp, 'corrupt.lock.json');
    fs.writeFileSync(corrupt, '{ "version": 1, "images": ');
    const run = spawnSync(process.execPath, ['scripts/run-compiled.js', 'todo/cli.ts', 'synth'], {
      cwd: ROOT, encoding: 'utf-8', env: { ...process.env, CDK8S_OUTDIR: out, HELM_OUTDIR: helm, TANKA_OUTDIR: tanka, IMAGES_LOCK_FILE: corrupt },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`synth failed, ${out}/, ${helm}/ and ${tanka}/ left as they were`);
    expect(run.stderr).toContain('corrupt.lock.json is not valid JSON');
    expect(run.stderr).toMatch(/todo-dev\/todo-db: /);
    expect([snapshotTree(out), snapshotTree(helm), snapshotTree(tanka)]).toEqual(before);
  });
});

/** Synthesizes the todo repository, freshly imported with `vars` in the environment, and hands `check` its dist/ (removed afterwards). */
async function synthWithEnv(vars: Record<string, string>, check: (dist: string) => void): Promise<void> {
  Object.assign(process.env, vars);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'todo-env-'));
  try {
    await jest.isolateModulesAsync(async () => {
      const { TODO_REPOSITORY: repository } = await import('../todo/repository');
      const { ImageLock: Lock } = await import('../src');
      repository.synth({ outdir: path.join(out, 'dist'), helmDir: path.join(out, 'helm'), lock: Lock.fromFile(path.join(ROOT, 'images.lock.json')) });
    });
    check(path.join(out, 'dist'));
  } finally {
    for (const name of Object.keys(vars)) delete process.env[name];
    fs.rmSync(out, { recursive: true, force: true });
  }
}

test('TODO_REPO_URL points the root and every Application at another git server (npm run demo\'s git daemon)', async () => {
  const url = 'git://127.0.0.1:9418/todo-gitops';
  await synthWithEnv({ TODO_REPO_URL: url }, dist => {
    const urls = ['bootstrap', 'apps'].flatMap(dir => fs.readdirSync(path.join(dist, dir))
      .flatMap(f => [...fs.readFileSync(path.join(dist, dir, f), 'utf-8').matchAll(/repoURL: (\S+)/g)].map(m => m[1])));
    expect(urls.length).toBeGreaterThanOrEqual(5);
    expect(new Set(urls)).toEqual(new Set([url]));
  });
});

test('TODO_BACKUP_ENDPOINT and TODO_BACKUP_BUCKET point prod\'s backups at another object store', async () => {
  await synthWithEnv({ TODO_BACKUP_ENDPOINT: 'http://versitygw.backup-store.svc:7070', TODO_BACKUP_BUCKET: 'drills' }, dist => {
    const store = readManifests(dist).map(m => m.object).find(o => o.kind === 'ObjectStore' && o.metadata.namespace === 'todo-prod');
    expect(store.spec.configuration).toMatchObject({ endpointURL: 'http://versitygw.backup-store.svc:7070', destinationPath: 's3://drills/todo-prod' });
  });
});
