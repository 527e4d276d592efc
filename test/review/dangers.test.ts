import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GitOpsRepository, ImageLock } from '../../src';
import { Danger, DangerRule, findDangers } from '../../src/review/dangers';
import { ManifestObject, ManifestTree } from '../../src/review/manifest-tree';
import { diffTrees } from '../../src/review/object-diff';
import { TODO_ENVIRONMENTS, TODO_GIT, TodoSettings } from '../../todo/environments';
import { TODO_PLATFORM, TODO_REPOSITORY } from '../../todo/repository';
import { buildTodoStack } from '../../todo/todo-stack';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dangers-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const LOCK = ImageLock.fromFile(path.join(__dirname, '..', '..', 'images.lock.json'));
TODO_REPOSITORY.synth({ outdir: path.join(tmp, 'dist'), helmDir: path.join(tmp, 'helm'), lock: LOCK });
/**
 * The real todo tree: every rule is tried on the objects the constructs
 * render (dev's StatefulSet Postgres, prod's CloudNativePG Cluster).
 */
const BASE = ManifestTree.fromDirectory(path.join(tmp, 'dist'));

type Edit = (objects: ManifestObject[]) => ManifestObject[];

/** The base with `edit` applied to a deep copy. */
function head(edit: Edit, base = BASE): ManifestTree {
  return new ManifestTree(edit(base.objects.map(o => ({ ...o, object: structuredClone(o.object) }))));
}

/** Edits the one object `dir/kind/name` in place. */
function change(dir: string, kind: string, name: string, mutate: (o: any) => void): Edit {
  return objects => {
    const found = objects.filter(o => o.directory === dir && o.object.kind === kind && o.object.metadata.name === name);
    if (found.length !== 1) throw new Error(`expected one ${dir}/${kind}/${name}, found ${found.length}`);
    mutate(found[0].object);
    return objects;
  };
}

const remove = (dir: string, kind: string, name: string): Edit =>
  objects => objects.filter(o => !(o.directory === dir && o.object.kind === kind && o.object.metadata.name === name));

const container = (o: any, name: string) => (o.spec.jobTemplate?.spec ?? o.spec).template.spec.containers.find((c: any) => c.name === name);

function dangers(edit: Edit, base = BASE): Danger[] {
  const after = head(edit, base);
  return findDangers(diffTrees(base, after), base, after);
}

const rules = (edit: Edit, base = BASE) => dangers(edit, base).map(d => d.rule);

/** [rule, a change that triggers it, a change close to it that must not] */
const RULES: Array<[DangerRule, Edit, Edit]> = [
  ['prune-deletes-data', remove('dev', 'StatefulSet', 'todo-db'),
    // Pruning an object that holds no data.
    remove('dev', 'ConfigMap', 'todo-config')],
  ['immutable-field', change('dev', 'StatefulSet', 'todo-db', o => { o.spec.serviceName = 'todo-db-peers'; }),
    change('dev', 'StatefulSet', 'todo-db', o => { o.spec.template.spec.terminationGracePeriodSeconds = 90; })],
  ['storage-shrink', change('dev', 'StatefulSet', 'todo-db', o => { o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '512Mi'; }),
    change('dev', 'StatefulSet', 'todo-db', o => { o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '2Gi'; })],
  ['plaintext-credentials', change('prod', 'Deployment', 'todo', o => {
    const password = container(o, 'app').env.find((e: any) => e.name === 'PGPASSWORD');
    delete password.valueFrom;
    password.value = 'hunter2hunter2';
  }), change('prod', 'Deployment', 'todo', o => { container(o, 'app').env.find((e: any) => e.name === 'PGPASSWORD').valueFrom.secretKeyRef.name = 'other-login'; })],
  ['image-unpinned', change('prod', 'Deployment', 'todo', o => { container(o, 'app').image = 'ghcr.io/acme/todo:latest'; }),
    change('prod', 'Deployment', 'todo', o => { container(o, 'app').image = `ghcr.io/acme/todo@sha256:${'e'.repeat(64)}`; })],
  ['pod-security', change('dev', 'StatefulSet', 'todo-db', o => { container(o, 'postgres').securityContext.allowPrivilegeEscalation = true; }),
    change('dev', 'StatefulSet', 'todo-db', o => { container(o, 'postgres').resources.limits.memory = '1Gi'; })],
  ['network-widened', change('prod', 'NetworkPolicy', 'todo-db', o => { delete o.spec.ingress[0].from; }),
    change('prod', 'NetworkPolicy', 'todo-db', o => { o.spec.ingress = o.spec.ingress.slice(0, 1); })],
  ['destination-changed', change('apps', 'Application', 'todo-prod', o => { o.spec.destination.namespace = 'todo-production'; }),
    change('apps', 'Application', 'todo-prod', o => { o.spec.source.targetRevision = 'release'; })],
  ['sealed-secret-removed', remove('prod', 'SealedSecret', 'todo-db-credentials'),
    // Re-sealed (a rotated password): still there.
    change('prod', 'SealedSecret', 'todo-db-credentials', o => { o.spec.encryptedData.password = 'AgB' + 'x'.repeat(40); })],
  ['sealing-key-lost', change('prod', 'SealedSecret', 'todo-db-credentials', o => { o.metadata.annotations['acme.io/sealed-with'] = 'SHA256:other'; }),
    // Re-encrypted: another key, and values sealed with it.
    change('prod', 'SealedSecret', 'todo-db-credentials', o => {
      o.metadata.annotations['acme.io/sealed-with'] = 'SHA256:other';
      o.spec.encryptedData.password = 'AgB' + 'y'.repeat(40);
    })],
];

/** [rule, a change that triggers it, a change close to it that must not], on prod's CloudNativePG cluster. */
const CNPG_RULES: Array<[string, DangerRule, Edit, Edit]> = [
  ['prune-deletes-data (Cluster)', 'prune-deletes-data', remove('prod', 'Cluster', 'todo-db'),
    // Annotated Prune=false: Argo CD leaves it in the cluster.
    change('prod', 'Cluster', 'todo-db', o => { o.metadata.annotations['argocd.argoproj.io/sync-options'] = 'Prune=false'; })],
  ['storage-shrink (Cluster)', 'storage-shrink', change('prod', 'Cluster', 'todo-db', o => { o.spec.storage.size = '10Gi'; }),
    change('prod', 'Cluster', 'todo-db', o => { o.spec.storage.size = '40Gi'; })],
  ['standby-removed', 'standby-removed', change('prod', 'Cluster', 'todo-db', o => { o.spec.instances = 1; }),
    change('prod', 'Cluster', 'todo-db', o => { o.spec.instances = 4; })],
  ['synchronous-replication-off', 'synchronous-replication-off', change('prod', 'Cluster', 'todo-db', o => { delete o.spec.postgresql.synchronous; }),
    // Quorum to priority with the same number of standbys: every acknowledged write is still on one.
    change('prod', 'Cluster', 'todo-db', o => { o.spec.postgresql.synchronous.method = 'first'; })],
  ['backup-removed (the plugin as WAL archiver)', 'backup-removed', change('prod', 'Cluster', 'todo-db', o => { delete o.spec.plugins; }),
    // Another ObjectStore: still archiving.
    change('prod', 'Cluster', 'todo-db', o => { o.spec.plugins[0].parameters.barmanObjectName = 'todo-db-archive'; })],
  ['backup-removed (the plugin disabled)', 'backup-removed', change('prod', 'Cluster', 'todo-db', o => { o.spec.plugins[0].enabled = false; }),
    change('prod', 'Cluster', 'todo-db', o => { o.spec.plugins[0].enabled = true; })],
  ['backup-removed (the plugin\'s ObjectStore)', 'backup-removed', remove('prod', 'ObjectStore', 'todo-db-backup'),
    change('prod', 'ObjectStore', 'todo-db-backup', o => { o.spec.retentionPolicy = '60d'; })],
  ['backup-removed (ScheduledBackup)', 'backup-removed', remove('prod', 'ScheduledBackup', 'todo-db'),
    change('prod', 'ScheduledBackup', 'todo-db', o => { o.spec.schedule = '0 0 3 * * *'; })],
];

describe.each(CNPG_RULES)('%s', (_name, rule, trigger, harmless) => {
  test('a change that hurts is found, naming the directory, the object, why and what to do instead', () => {
    const found = dangers(trigger).filter(d => d.rule === rule);
    expect(found).toHaveLength(1);
    expect(found[0].directory).toBe('prod');
    expect(found[0].object).toMatch(/^(Cluster|ScheduledBackup) todo-prod\/todo-db$|^ObjectStore todo-prod\/todo-db-backup$/);
    expect(found[0].reason.length).toBeGreaterThan(20);
    expect(found[0].advice.length).toBeGreaterThan(20);
  });

  test('a change close to it is not', () => {
    expect(diffTrees(BASE, head(harmless)).length).toBeGreaterThan(0);
    expect(rules(harmless)).not.toContain(rule);
  });
});
describe('backup-removed with CloudNativePG\'s in-tree barmanObjectStore', () => {
  // prod as it was before the Barman Cloud plugin: the same store in spec.backup.
  const inTree = head(change('prod', 'Cluster', 'todo-db', o => {
    delete o.spec.plugins;
    o.spec.backup = { retentionPolicy: '30d', barmanObjectStore: { destinationPath: 's3://acme-todo-backups/todo-prod', endpointURL: 'https://s3.eu-west-1.amazonaws.com' } };
  }));

  test('removing spec.backup is found', () => {
    expect(rules(change('prod', 'Cluster', 'todo-db', o => { delete o.spec.backup; }), inTree)).toEqual(['backup-removed']);
  });

  test('moving to the plugin in one change is not a removal', () => {
    expect(rules(change('prod', 'Cluster', 'todo-db', o => {
      delete o.spec.backup;
      o.spec.plugins = [{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'todo-db-backup' } }];
    }), inTree)).toEqual([]);
  });
});


describe.each(RULES)('%s', (rule, trigger, harmless) => {
  test('a change that hurts is found, naming the directory, the object, why and what to do instead', () => {
    const found = dangers(trigger).filter(d => d.rule === rule);
    expect(found).toHaveLength(1);
    expect(found[0].directory).toMatch(/^(dev|prod|apps)$/);
    expect(found[0].object).toMatch(/^[A-Za-z]+ [a-z-]+\/[a-z-]+$|^Application argocd\/todo-prod$/);
    expect(found[0].reason.length).toBeGreaterThan(20);
    expect(found[0].advice.length).toBeGreaterThan(20);
  });

  test('a change close to it is not', () => {
    expect(diffTrees(BASE, head(harmless)).length).toBeGreaterThan(0);
    expect(rules(harmless)).not.toContain(rule);
  });
});

describe('details of the rules', () => {
  test('CloudNativePG: 3 to 2 instances removes a standby but keeps one; weaker synchronous settings are found; a Cluster removed with its ScheduledBackup is one finding', () => {
    const fewer = dangers(change('prod', 'Cluster', 'todo-db', o => { o.spec.instances = 2; }));
    expect(fewer.map(d => d.rule)).toEqual(['standby-removed']);
    expect(fewer[0].reason).toBe('instances drop from 3 to 2: the operator deletes 1 instance(s) with their volumes');
    const weaker = dangers(change('prod', 'Cluster', 'todo-db', o => { o.spec.postgresql.synchronous.dataDurability = 'preferred'; }));
    expect(weaker.map(d => d.rule)).toEqual(['synchronous-replication-off']);
    expect(weaker[0].reason).toContain('dataDurability required -> preferred');
    const gone = dangers(objects => remove('prod', 'ScheduledBackup', 'todo-db')(remove('prod', 'Cluster', 'todo-db')(objects)));
    expect(gone.map(d => `${d.rule} ${d.object}`)).toEqual(['prune-deletes-data Cluster todo-prod/todo-db']);
  });

  test('moving staging and prod from the StatefulSet to CloudNativePG is flagged: each StatefulSet\'s volume is pruned (migrate the data first)', () => {
    const environments = TODO_ENVIRONMENTS.map(e => ({ ...e, settings: { ...e.settings, databaseEngine: 'statefulset' as const } }));
    const before = path.join(tmp, 'statefulsets');
    new GitOpsRepository<TodoSettings>({ name: 'todo', ...TODO_GIT, environments, stack: buildTodoStack, platform: TODO_PLATFORM }).synth({ outdir: before, lock: LOCK });
    const base = ManifestTree.fromDirectory(before);
    const found = findDangers(diffTrees(base, BASE), base, BASE);
    expect(found.map(d => `${d.rule} ${d.object}`).sort()).toEqual([
      'network-widened NetworkPolicy todo-prod/todo', 'network-widened NetworkPolicy todo-staging/todo',
      'prune-deletes-data StatefulSet todo-prod/todo-db', 'prune-deletes-data StatefulSet todo-staging/todo-db',
    ]);
    // The web tier's egress names the instances by another label; the database's own policy follows its pods, and the pg_dump pods' policy goes with them.
    expect(found.find(d => d.object === 'NetworkPolicy todo-prod/todo')!.reason).toContain('egress {"podSelector":{"matchLabels":{"cnpg.io/cluster":"todo-db"}}} on port 5432/TCP');
  });

  test('a NetworkPolicy deleted with its pods widens nothing; one moved off pods that remain does', () => {
    const gone = rules(objects => remove('dev', 'NetworkPolicy', 'todo-db')(remove('dev', 'StatefulSet', 'todo-db')(objects)));
    expect(gone).toEqual(['prune-deletes-data']);
    const moved = dangers(change('prod', 'NetworkPolicy', 'todo', o => { o.spec.podSelector = { matchLabels: { 'app.kubernetes.io/name': 'other' } }; }));
    expect(moved.map(d => d.rule)).toEqual(['network-widened']);
    expect(moved[0].reason).toContain('no longer selects pods it selected, which remain');
  });

  test('a Cluster\'s WAL volume shrinking is found, with the sizes', () => {
    const withWal = head(change('prod', 'Cluster', 'todo-db', o => { o.spec.walStorage = { size: '5Gi' }; }));
    const found = dangers(change('prod', 'Cluster', 'todo-db', o => { o.spec.walStorage.size = '2Gi'; }), withWal);
    expect(found.map(d => d.rule)).toEqual(['storage-shrink']);
    expect(found[0].reason).toContain('from 5Gi to 2Gi');
  });

  test('deleting a StatefulSet whose Application does not prune is not data loss', () => {
    const base = head(change('apps', 'Application', 'todo-dev', o => { o.spec.syncPolicy.automated.prune = false; }));
    const after = new ManifestTree(base.objects.filter(o => !(o.directory === 'dev' && o.object.kind === 'StatefulSet')));
    expect(findDangers(diffTrees(base, after), base, after).map(d => d.rule)).not.toContain('prune-deletes-data');
  });

  test('shrinking a StatefulSet\'s claim template is both immutable and a shrink, with the sizes', () => {
    const found = dangers(change('dev', 'StatefulSet', 'todo-db', o => { o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '512Mi'; }));
    expect(found.map(d => d.rule).sort()).toEqual(['immutable-field', 'storage-shrink']);
    expect(found.find(d => d.rule === 'storage-shrink')!.reason).toContain('from 1Gi to 512Mi');
  });

  test('a Deployment selector change is immutable; its replicas are not', () => {
    expect(rules(change('prod', 'Deployment', 'todo', o => { o.spec.selector.matchLabels.tier = 'web'; }))).toEqual(['immutable-field']);
    expect(rules(change('dev', 'Deployment', 'todo', o => { o.spec.replicas = 5; }))).toEqual([]);
  });

  test('deleting a NetworkPolicy widens; adding a port or a peer widens; a committed Secret is plaintext, a dev-only one is not', () => {
    expect(rules(remove('prod', 'NetworkPolicy', 'todo'))).toEqual(['network-widened']);
    expect(rules(change('prod', 'NetworkPolicy', 'todo', o => { o.spec.ingress[0].ports.push({ port: 9090, protocol: 'TCP' }); }))).toEqual(['network-widened']);
    expect(rules(change('prod', 'NetworkPolicy', 'todo', o => { o.spec.policyTypes = ['Ingress']; }))).toEqual(['network-widened']);
    const secret = (labels: Record<string, string>): Edit => objects => [...objects, {
      directory: 'prod',
      file: 'prod/x.yaml',
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leak', namespace: 'todo-prod', labels }, stringData: { password: 'x' } },
    }];
    expect(rules(secret({}))).toEqual(['plaintext-credentials']);
    expect(rules(secret({ 'acme.io/dev-only': 'true' }))).toEqual([]);
  });

  test('a SealedSecret deleted with the last use of its Secret is not dangerous', () => {
    const edit: Edit = objects => remove('prod', 'SealedSecret', 'todo-db-credentials')(objects)
      .filter(o => !(o.directory === 'prod' && JSON.stringify(o.object).includes('"todo-db-credentials"')));
    expect(rules(edit)).not.toContain('sealed-secret-removed');
  });

  test('the Sealed Secrets controller losing its keys: another key prefix, another namespace; a new memory limit is fine', () => {
    const controller = (o: any) => o.spec.template.spec.containers[0];
    const prefix = dangers(change('platform', 'Deployment', 'sealed-secrets-controller', o => {
      controller(o).args = controller(o).args.map((a: string) => a.startsWith('--key-prefix=') ? '--key-prefix=keys' : a);
    }));
    expect(prefix.map(d => d.rule)).toEqual(['sealing-key-lost']);
    expect(prefix[0].reason).toContain('from sealed-secrets-key to keys');
    const moved = dangers(change('platform', 'Deployment', 'sealed-secrets-controller', o => { o.metadata.namespace = 'kube-system'; }));
    expect(moved.map(d => d.rule).sort()).toEqual(['destination-changed', 'sealing-key-lost']);
    expect(rules(change('platform', 'Deployment', 'sealed-secrets-controller', o => { controller(o).resources.limits.memory = '512Mi'; }))).toEqual([]);
  });

  test('an object moving to another namespace is a changed destination', () => {
    const found = dangers(change('prod', 'Service', 'todo', o => { o.metadata.namespace = 'todo-production'; }));
    expect(found.map(d => d.rule)).toEqual(['destination-changed']);
    expect(found[0].reason).toContain('from namespace todo-prod to todo-production');
  });
});

describe('diffTrees', () => {
  test('ignores the order of objects and of named list items', () => {
    const shuffled = head(objects => [...objects].reverse().map(o => {
      const app = o.object.kind === 'Deployment' ? container(o.object, 'app') : undefined;
      if (app) app.env.reverse();
      return o;
    }));
    expect(diffTrees(BASE, shuffled)).toEqual([]);
  });

  test('names a changed field by its path, list items by name, with before and after', () => {
    const changes = diffTrees(BASE, head(change('dev', 'Deployment', 'todo', o => {
      container(o, 'app').env.find((e: any) => e.name === 'PGSSLMODE').value = 'require';
      o.metadata.labels['acme.io/team'] = 'web';
    })));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ directory: 'dev', kind: 'Deployment', namespace: 'todo-dev', name: 'todo', change: 'changed' });
    expect(changes[0].fields).toEqual([
      { path: 'metadata.labels["acme.io/team"]', after: 'web' },
      { path: 'spec.template.spec.containers[name=app].env[name=PGSSLMODE].value', before: 'prefer', after: 'require' },
    ]);
  });

  test('reports added and removed objects', () => {
    const changes = diffTrees(BASE, head(objects => objects.filter(o => o.object.kind !== 'Ingress')));
    expect(changes.map(c => `${c.change} ${c.directory} ${c.kind} ${c.name}`)).toEqual(['removed prod Ingress todo', 'removed staging Ingress todo']);
    expect(diffTrees(new ManifestTree([]), BASE).every(c => c.change === 'added')).toBe(true);
  });
});
