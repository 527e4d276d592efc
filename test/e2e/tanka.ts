/**
 * End-to-end test of the generated Tanka project (tanka/) with the real `tk`
 * (Grafana Tanka v0.38.0, built by test/tools/install.sh tanka from the
 * vendored source tarball, sha256 checked):
 *
 * - `tk export` of every environment yields exactly the objects of
 *   dist/<env>, deep-equal, each carrying the injected tanka.dev/environment
 *   label (which `tk prune` selects by) and differing in nothing else;
 * - a user's own environment importing the generated objects overrides one
 *   field the plain Jsonnet way, and another uses the helpers of
 *   lib/todo/overrides.libsonnet: exactly the fields named change, and a
 *   helper naming a missing object fails instead of silently doing nothing;
 * - against a real kube-apiserver (a control plane without nodes of the
 *   cluster program test/tools/cluster/; the real CloudNativePG operator
 *   serving the webhooks staging's and prod's `Cluster`s pass,
 *   test/e2e/cnpg-support.ts), each environment applied with `tk apply`
 *   (server-side) shows no difference in `tk diff` (diffStrategy "server"),
 *   the overriding environment shows exactly its change, and `tk prune`
 *   deletes exactly the object a user's environment leaves out.
 *
 *   npx ts-node test/e2e/tanka.ts     # ~2-3 min with the tools cached; building tk: ~1 min idle
 *
 * The tanka source tarball comes from the shared material directory beside the clone (TANKA_SOURCE_TARBALL
 * overrides it). Everything lives in a temporary directory, the control plane in network
 * namespaces of its own (root); it is stopped on exit, also on failure and on SIGINT/SIGTERM. dist/ and
 * tanka/ are only read. Prints "[e2e i/N] ..." progress and ends with "N passed, N failed".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { DIST, K8sObject, Kubectl, createOutOfBandSecrets, distObjects, keyOf, startControlPlane } from './cluster-support';
import { startHostCloudNativePg } from './cnpg-support';
import {
  ROOT, check, e2eMain, equal, installTools, progress, requireTools, run, section, skipSteps,
} from './harness';
import { applyPlatformAsArgo } from './sealed-secrets-support';
import { readManifests } from '../support/synth';

const PROJECT = path.join(ROOT, 'tanka');
const ENVS = ['dev', 'staging', 'prod'];
const ENV_LABEL = 'tanka.dev/environment';
/** The environment the override and prune checks use (its Deployment has a fixed replica count). */
const USER_ENV = 'staging';
const PINNED = `registry.example/todo@sha256:${'a'.repeat(64)}`;
const STEPS = 8;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-tanka-'));
/** The control plane's directory (the cluster program's `up DIR`). */
const PLANE_DIR = path.join(tmp, 'control-plane');
let toolEnv: NodeJS.ProcessEnv = process.env;
let kube = new Kubectl(process.env);
/** Seconds each measured command took, for the closing summary. */
const timings: string[] = [];

/** Runs tk in `cwd` (the generated project unless given) and records how long it took. */
async function tk(args: string[], options: { cwd?: string; allowFail?: boolean } = {}) {
  const started = Date.now();
  const r = await run('tk', args, { cwd: options.cwd ?? PROJECT, env: toolEnv, allowFail: options.allowFail });
  const seconds = (Date.now() - started) / 1000;
  timings.push(`tk ${args.filter(a => !a.startsWith('/')).join(' ')}: ${seconds.toFixed(2)} s`);
  return { ...r, seconds };
}

/** The objects `tk export` writes for the environment at `envDir` (relative to `cwd`), from its YAML files. */
async function exported(envDir: string, cwd = PROJECT): Promise<K8sObject[]> {
  const out = fs.mkdtempSync(path.join(tmp, 'export-'));
  fs.rmdirSync(out);
  await tk(['export', out, envDir], { cwd });
  return readManifests(out).map(m => m.object);
}

/** Removes the injected environment label from each object and returns the label values found. */
function stripEnvironmentLabel(objects: K8sObject[]): string[] {
  return objects.map(o => {
    const value = o.metadata?.labels?.[ENV_LABEL];
    if (value !== undefined) delete o.metadata.labels[ENV_LABEL];
    return value;
  });
}

/** Every field that differs between two values, as "<path>: <before> -> <after>". */
function changedFields(before: any, after: any, at = ''): string[] {
  const isObject = (v: any) => v !== null && typeof v === 'object';
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap(k => changedFields(before[k], after[k], `${at}.${k}`));
  }
  return before === after ? [] : [`${at}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`];
}

/** What differs between two object lists, per object key: missing and extra objects, changed fields. */
function objectChanges(before: K8sObject[], after: K8sObject[]): string[] {
  const was = new Map(before.map(o => [keyOf(o), o]));
  const now = new Map(after.map(o => [keyOf(o), o]));
  const keys = [...new Set([...was.keys(), ...now.keys()])].sort();
  return keys.flatMap(k => {
    if (!now.has(k)) return [`${k} missing`];
    if (!was.has(k)) return [`${k} extra`];
    return changedFields(was.get(k), now.get(k)).map(c => `${k} ${c}`);
  });
}

/**
 * The kinds an environment of the todo stack holds (`kubectl get` names), CloudNativePG's Cluster and
 * ScheduledBackup and the Barman Cloud plugin's ObjectStore among them.
 */
const STACK_KINDS = 'configmaps,cronjobs,deployments,horizontalpodautoscalers,ingresses,networkpolicies,persistentvolumeclaims,'
  + 'poddisruptionbudgets,sealedsecrets,secrets,services,serviceaccounts,statefulsets,'
  + 'clusters.postgresql.cnpg.io,scheduledbackups.postgresql.cnpg.io,objectstores.barmancloud.cnpg.io';

/** Keys of the live objects in `ns` that carry the environment label tk prune selects by, sorted. */
async function labelledObjects(ns: string): Promise<string[]> {
  const items = (await kube.json(['-n', ns, 'get', STACK_KINDS, '-l', ENV_LABEL])).items as K8sObject[];
  return items.map(keyOf).sort();
}

/**
 * A user's own Tanka project: the generated library vendored as `vendor/todo`
 * (what `jb install` of tanka/lib/todo, or a copy, gives), the generated
 * spec.json of `env`, and `mainJsonnet` as the environment's main.jsonnet.
 * Returns the project directory.
 */
function userProject(name: string, env: string, mainJsonnet: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'environments', env), { recursive: true });
  fs.writeFileSync(path.join(dir, 'jsonnetfile.json'), '{ "version": 1, "dependencies": [], "legacyImports": true }\n');
  fs.cpSync(path.join(PROJECT, 'lib', 'todo'), path.join(dir, 'vendor', 'todo'), { recursive: true });
  fs.copyFileSync(path.join(PROJECT, 'environments', env, 'spec.json'), path.join(dir, 'environments', env, 'spec.json'));
  fs.writeFileSync(path.join(dir, 'environments', env, 'main.jsonnet'), mainJsonnet);
  return dir;
}

async function main(): Promise<void> {
  const tools = await section([['install/find tools (tk, kubectl, kube-apiserver, etcd, the CloudNativePG manager) with test/tools/install.sh tanka kube debs cloudnative-pg', async () => {
    toolEnv = await installTools(['tanka', 'kube', 'debs', 'cloudnative-pg']);
    await requireTools(toolEnv, ['tk', 'kubectl', 'kube-apiserver', 'etcd', 'manager', 'openssl']);
    // tk logs its version on stderr, after a timestamp.
    const version = await run('tk', ['--version'], { env: toolEnv });
    check('tk --version says v0.38.0', / tk version v0\.38\.0$/m.test(version.stderr), version.stderr.trim());
  }]]);
  if (!tools) {
    skipSteps(Array.from({ length: STEPS - 1 }, (_, i) => `step ${i + 2}`), 'tools missing');
    return;
  }

  await section([['tk export of every environment in tanka/ yields the objects of dist/<env> (by kind/namespace/name, deep-equal), each labelled for tk prune', async () => {
    const labels = new Set<string>();
    for (const env of ENVS) {
      const objects = await exported(path.join('environments', env));
      const values = stripEnvironmentLabel(objects);
      check(`${env}: every object carries a ${ENV_LABEL} label, one value for the environment`,
        values.every(v => /^[0-9a-f]{48}$/.test(v)) && new Set(values).size === 1, JSON.stringify([...new Set(values)]));
      labels.add(values[0]);
      const want = distObjects(env);
      equal(`${env}: tk exports as many objects as dist/${env} holds (${want.length})`, objects.length, want.length);
      equal(`${env}: no object differs from dist/${env}`, objectChanges(want, objects), []);
    }
    equal('each environment has its own label value', labels.size, ENVS.length);
  }]]);

  await section([[`a user's environment overrides one field in plain Jsonnet: exactly ${USER_ENV}'s Deployment todo spec.replicas changes`, async () => {
    const dir = userProject('user-plain', USER_ENV, [
      `(import 'todo/${USER_ENV}.json')`,
      '+ { deployments+: { todo+: { spec+: { replicas: 5 } } } }',
      '',
    ].join('\n'));
    const objects = await exported(path.join('environments', USER_ENV), dir);
    stripEnvironmentLabel(objects);
    const before = distObjects(USER_ENV).find(o => o.kind === 'Deployment' && o.metadata.name === 'todo')!.spec.replicas;
    equal('the only change', objectChanges(distObjects(USER_ENV), objects), [`Deployment/todo-${USER_ENV}/todo .spec.replicas: ${before} -> 5`]);
  }]]);

  await section([['the helpers of lib/todo/overrides.libsonnet change exactly the image, memory limit and replicas they name (a StatefulSet\'s in dev); a misspelled name, and staging\'s database taken for a StatefulSet, fail', async () => {
    const dir = userProject('user-helpers', USER_ENV, [
      'local o = import \'todo/overrides.libsonnet\';',
      `(import 'todo/${USER_ENV}.json')`,
      `+ o.image('todo', 'app', '${PINNED}')`,
      '+ o.resources(\'todo\', \'app\', { limits: { memory: \'512Mi\' } })',
      '+ o.replicas(\'todo\', 4)',
      '',
    ].join('\n'));
    const objects = await exported(path.join('environments', USER_ENV), dir);
    stripEnvironmentLabel(objects);
    const want = distObjects(USER_ENV);
    const web = want.find(o => o.kind === 'Deployment' && o.metadata.name === 'todo')!;
    const app = web.spec.template.spec.containers.findIndex((c: any) => c.name === 'app');
    const container = web.spec.template.spec.containers[app];
    equal('the only changes', objectChanges(want, objects), [
      `Deployment/todo-${USER_ENV}/todo .spec.replicas: ${web.spec.replicas} -> 4`,
      `Deployment/todo-${USER_ENV}/todo .spec.template.spec.containers.${app}.image: ${JSON.stringify(container.image)} -> "${PINNED}"`,
      `Deployment/todo-${USER_ENV}/todo .spec.template.spec.containers.${app}.resources.limits.memory: ${JSON.stringify(container.resources.limits.memory)} -> "512Mi"`,
    ]);

    // dev's database is the StatefulSet; staging's and prod's are CloudNativePG Clusters (instances in git, no replicas).
    const devDir = userProject('user-helpers-dev', 'dev', "(import 'todo/dev.json') + (import 'todo/overrides.libsonnet').replicas('todo-db', 2, kind='statefulSets')\n");
    const devObjects = await exported(path.join('environments', 'dev'), devDir);
    stripEnvironmentLabel(devObjects);
    const database = distObjects('dev').find(o => o.kind === 'StatefulSet' && o.metadata.name === 'todo-db')!;
    equal('dev: the only change', objectChanges(distObjects('dev'), devObjects), [`StatefulSet/todo-dev/todo-db .spec.replicas: ${database.spec.replicas} -> 2`]);
    equal(`${USER_ENV}: the database is the Cluster todo-db of lib/todo/${USER_ENV}.json (clusters.todo-db), no StatefulSet`,
      want.filter(o => o.metadata.name === 'todo-db' && ['Cluster', 'StatefulSet'].includes(o.kind)).map(o => `${o.kind} ${o.spec.instances}`), ['Cluster 2']);
    const noStatefulSet = userProject('user-statefulset', USER_ENV, `(import 'todo/${USER_ENV}.json') + (import 'todo/overrides.libsonnet').replicas('todo-db', 3, kind='statefulSets')\n`);
    const refused = await tk(['show', '--dangerous-allow-redirect', path.join('environments', USER_ENV)], { cwd: noStatefulSet, allowFail: true });
    check(`${USER_ENV}: the replicas helper on a StatefulSet todo-db fails, there being none`, refused.code !== 0 && /there is no statefulSets named todo-db \(there are: \[ ?\]\)/.test(refused.stderr),
      `exit ${refused.code}: ${refused.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);

    const typo = userProject('user-typo', USER_ENV, `(import 'todo/${USER_ENV}.json') + (import 'todo/overrides.libsonnet').replicas('todoo', 3)\n`);
    const r = await tk(['show', '--dangerous-allow-redirect', path.join('environments', USER_ENV)], { cwd: typo, allowFail: true });
    check('tk show exits non-zero, naming the missing object and the ones there are', r.code !== 0 && /there is no deployments named todoo \(there are: \["todo"\]\)/.test(r.stderr),
      `exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
  }]]);

  const clusterUp = await section([['start a control plane without nodes (the cluster program, --nodes 0); kubeconfig contexts dev, staging, prod; dist/platform and the CloudNativePG operator serving its webhooks', async () => {
    const kubeEnv = await startControlPlane(PLANE_DIR, toolEnv);
    // tk runs kubectl with this KUBECONFIG from here on.
    toolEnv = kubeEnv;
    kube = new Kubectl(kubeEnv);
    const config = await kube.json(['config', 'view', '--minify']);
    const { cluster, user } = config.contexts[0].context;
    for (const env of ENVS) {
      const contextNames = JSON.parse(fs.readFileSync(path.join(PROJECT, 'environments', env, 'spec.json'), 'utf-8')).spec.contextNames;
      equal(`tanka/environments/${env}/spec.json connects by the context named like the environment`, contextNames, [env]);
      await kube.run(['config', 'set-context', env, `--cluster=${cluster}`, `--user=${user}`]);
    }
    check('contexts created', true);
    // The environments' SealedSecrets and Clusters need the CRDs of the tree's platform part, installed before them,
    // and every Cluster the operator's webhooks (failurePolicy Fail).
    await applyPlatformAsArgo(kube, DIST, { waitReady: false });
    await startHostCloudNativePg(tmp, 'cloudnative-pg', PLANE_DIR, kube, toolEnv);
  }]]);
  if (!clusterUp) {
    skipSteps(['every environment: tk apply, then tk diff', 'override diff', 'tk prune'], 'no API server');
    return;
  }

  const applied = await section([['every environment: namespace (PodSecurity restricted), out-of-band Secrets, tk apply (server-side), then tk diff reports no differences', async () => {
    for (const env of ENVS) {
      const spec = JSON.parse(fs.readFileSync(path.join(PROJECT, 'environments', env, 'spec.json'), 'utf-8')).spec;
      equal(`${env}: spec.json asks for server-side apply and diff, and injected labels`,
        [spec.applyStrategy, spec.diffStrategy, spec.injectLabels], ['server', 'server', true]);
      const ns: string = spec.namespace;
      const labels = Object.fromEntries(['enforce', 'warn', 'audit'].map(m => [`pod-security.kubernetes.io/${m}`, 'restricted']));
      const created = await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } }), 'e2e');
      check(`${env}: namespace ${ns} created`, created.code === 0, created.stderr);
      await createOutOfBandSecrets(kube, ns, distObjects(env));

      const apply = await tk(['apply', path.join('environments', env), '--auto-approve', 'always'], { allowFail: true });
      check(`${env}: tk apply exits 0 (${apply.seconds.toFixed(1)} s)`, apply.code === 0, apply.stderr.trim().split('\n').slice(-8).join('\n'));
      equal(`${env}: the live objects labelled ${ENV_LABEL} are those of dist/${env}`, await labelledObjects(ns), distObjects(env).map(keyOf).sort());

      const diff = await tk(['diff', path.join('environments', env)], { allowFail: true });
      check(`${env}: tk diff exits 0 with "No differences." (${diff.seconds.toFixed(1)} s)`, diff.code === 0 && /No differences\./.test(diff.stderr) && diff.stdout.trim() === '',
        `exit ${diff.code}\n${(diff.stdout + diff.stderr).trim().split('\n').slice(0, 30).join('\n')}`);
    }
  }]]);
  if (!applied) {
    skipSteps(['override diff', 'tk prune'], 'the environments were not applied');
    return;
  }

  await section([[`positive control: tk diff of the user's ${USER_ENV} environment with replicas 5 reports exactly that change (exit 16)`, async () => {
    const dir = path.join(tmp, 'user-plain');
    const r = await tk(['diff', path.join('environments', USER_ENV)], { cwd: dir, allowFail: true });
    const changed = r.stdout.split('\n').filter(l => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)).map(l => l.replace(/\s+/g, ' ').trim());
    equal('tk diff exit status', r.code, 16);
    equal('changed lines (generation aside)', changed.filter(l => !/^[-+] generation: /.test(l)), ['- replicas: 2', '+ replicas: 5']);
  }]]);

  await section([[`tk prune: a user's ${USER_ENV} environment that leaves out the PodDisruptionBudget todo deletes exactly that object`, async () => {
    const dir = userProject('user-prune', USER_ENV, `(import 'todo/${USER_ENV}.json') + { podDisruptionBudgets+: { todo:: super.todo } }\n`);
    const ns = `todo-${USER_ENV}`;
    const pdb = `PodDisruptionBudget/${ns}/todo`;
    const before = await labelledObjects(ns);
    check(`${ns} has ${pdb} before`, before.includes(pdb), before.join(', '));
    const r = await tk(['prune', path.join('environments', USER_ENV), '--auto-approve', 'always'], { cwd: dir, allowFail: true });
    check(`tk prune exits 0 (${r.seconds.toFixed(1)} s)`, r.code === 0, r.stderr.trim().split('\n').slice(-8).join('\n'));
    equal('the labelled live objects: all but the PodDisruptionBudget todo', await labelledObjects(ns), before.filter(k => k !== pdb));
    const diff = await tk(['diff', path.join('environments', USER_ENV)], { cwd: dir, allowFail: true });
    check('tk diff of the pruned environment: no differences', diff.code === 0 && /No differences\./.test(diff.stderr), `exit ${diff.code}\n${diff.stdout.slice(0, 2000)}`);
  }]]);

  progress(`[tanka] timings:\n  ${timings.join('\n  ')}`);
}

e2eMain({ steps: STEPS, tmp }, main);
