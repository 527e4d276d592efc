/**
 * End-to-end test of the synthesized manifests against a real API server:
 * every environment is applied the way Argo CD applies it (server-side, field
 * manager argocd-controller, into a namespace made from the Application's
 * managedNamespaceMetadata, PodSecurity "restricted"), must apply without a
 * single warning, and must then show no diff. kube-controller-manager creates
 * the pods of the Deployments and StatefulSets and of a Job from each
 * CronJob, proving they are admitted under "restricted"; a deliberately
 * non-compliant Deployment proves the check can fail. staging's and prod's
 * databases are CloudNativePG `Cluster`s: the real operator serves its
 * admission webhooks (test/e2e/cnpg-support.ts), so each Cluster is defaulted
 * and validated as in a real cluster, and must still show no diff. (That the pods then run
 * is test/e2e/pods.ts's part, on a real node.) Then kube-score (accepted
 * findings: test/tools/kube-score.yaml) and the Helm chart: lint, same objects
 * as dist/<env>, no diff against the cluster.
 *
 *   npx ts-node test/e2e/cluster.ts            # ~2-3 min on 2 cores with the tools cached
 *
 * Needs: go, network to the Go module proxy and Debian apt the first time (tools
 * are installed by test/tools/install.sh and cached; kube-score is go-installed
 * into the same cache); the Argo CD CRDs come from third_party/argo-cd-v3.6.1/crds. Needs root: the
 * control plane runs in network namespaces of its own (the cluster program, test/tools/cluster/, without
 * nodes). Everything lives in a temporary directory; the control plane is stopped on exit, also on
 * failure and on SIGINT/SIGTERM. dist/ and helm/ are only read.
 * Prints "[e2e i/N] ..." progress and ends with "N passed, N failed";
 * the exit status is 1 if anything failed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { apiGet } from './api-get';
import {
  ARGOCD_CRDS, DIST, K8sObject, Kubectl, applyAsArgo, applyEnvironmentAsArgo, assertNoDiffAsArgo, checkPodsAdmitted,
  distObjects, goBinary, installCrds, keyOf, manifestFiles, refusedPods, startControlPlane, toolsCache,
} from './cluster-support';
import { expectedClusterWarning, startHostCloudNativePg } from './cnpg-support';
import {
  ROOT, RunOptions, RunResult, check, e2eMain, equal, installTools, isExecutable, progress,
  requireTools, run, section, skipSteps, waitFor,
} from './harness';
import { clusterStores } from './object-store-support';
import { applyPlatformAsArgo } from './sealed-secrets-support';
import { TODO_ENVIRONMENTS } from '../../todo/environments';
import { kubernetesVersion } from '../tools/cluster/cluster';

const CHART = path.join(ROOT, 'helm', 'todo');
const KUBE_SCORE_CONFIG = path.join(ROOT, 'test', 'tools', 'kube-score.yaml');
const CRDS = ARGOCD_CRDS;
const ENVS = ['dev', 'staging', 'prod'];
/** Helm output applied to the cluster to prove it is what dist/ applied. */
const HELM_DIFF_ENV = 'prod';
/** Where the non-compliant Deployment of the negative control goes. */
const NEGATIVE_ENV = 'dev';
const STEPS = 16;
/** The components whose logs must name no flag their version deprecates or dropped. */
const FLAG_CHECKED = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const KUBERNETES_VERSION = kubernetesVersion();

// ------------------------------------------------------------ test state ---

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cluster-'));
/** The control plane's directory (the cluster program's `up DIR`). */
const PLANE_DIR = path.join(tmp, 'control-plane');
let toolEnv: NodeJS.ProcessEnv = process.env;
let kube = new Kubectl(process.env);
let kubeScore = '';
let clusterUp = false;
/** Environment name -> namespace (from the Application whose source path is dist/<env>). */
const namespaces: Record<string, string> = {};

function kubectl(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return kube.run(args, options);
}

/**
 * The forms the suites poll with (test/e2e/api-get.ts answers them without kubectl) give, byte for
 * byte, what kubectl itself prints (parsed and printed compactly); a NotFound fails the same way.
 */
async function checkApiGets(): Promise<void> {
  const prod = namespaces.prod;
  const forms = [
    ['get', 'nodes'], ['get', 'namespace', prod], ['-n', prod, 'get', 'pods'], ['-n', prod, 'get', 'deployment', 'todo'],
    ['-n', prod, 'get', 'pods', '-l', 'app.kubernetes.io/component=web'], ['-n', prod, 'get', 'clusters.postgresql.cnpg.io', 'todo-db'],
    ['-n', prod, 'get', 'HorizontalPodAutoscaler'], ['-n', 'argocd', 'get', 'application/todo-root'], ['get', 'pv', '-A'],
  ].map(f => [...f, '-o', 'json']);
  for (const args of forms) {
    let answered: RunResult | undefined;
    let printed = '';
    // An object may change between the two reads (a controller's status update): read again.
    for (let attempt = 0; attempt < 3 && (!answered || answered.stdout !== printed); attempt++) {
      answered = await apiGet(kube.env.KUBECONFIG, args);
      printed = JSON.stringify(JSON.parse((await run('kubectl', args, { env: kube.env })).stdout));
    }
    check(`kubectl ${args.join(' ')}: the API server's answer is kubectl's (${printed.length} bytes)`, answered?.code === 0 && answered.stdout === printed,
      answered ? answered.stdout.slice(0, 300) : 'left to kubectl');
  }
  const missing = ['-n', prod, 'get', 'deployment', 'no-such-deployment', '-o', 'json'];
  const answered = await apiGet(kube.env.KUBECONFIG, missing);
  const printed = await run('kubectl', missing, { env: kube.env, allowFail: true });
  equal('a missing object: exit status and message as kubectl\'s', [answered?.code, answered?.stderr], [printed.code, printed.stderr]);
  equal('a form the API server does not answer (two types, jsonpath) is left to kubectl',
    [await apiGet(kube.env.KUBECONFIG, ['get', 'pods,services', '-o', 'json']), await apiGet(kube.env.KUBECONFIG, ['get', 'pods', '-o', 'jsonpath={.items}'])], [undefined, undefined]);
}

/** Applies YAML from a string, server-side, and returns the result (kubectl's warnings are on stderr). */
function applyText(text: string, manager: string): Promise<RunResult> {
  return kube.apply(text, manager);
}

/**
 * Asserts `kubectl diff --server-side` as Argo CD's field manager finds nothing to change; the
 * operator's deprecation warning for a Cluster of `env` backing up with Barman Cloud is expected.
 */
function assertNoDiff(label: string, files: string[], env?: string): Promise<void> {
  return assertNoDiffAsArgo(kube, label, files, env ? expectedClusterWarning(distObjects(env)) : undefined);
}

// ------------------------------------------------------------ kube-score ---

interface KubeScoreIgnore { check: string; why: string; environments?: string[]; containers?: string[] }
interface KubeScoreConfig { version: string; kubernetesVersion: string; ignore: KubeScoreIgnore[] }

function kubeScoreConfig(): KubeScoreConfig {
  return YAML.parse(fs.readFileSync(KUBE_SCORE_CONFIG, 'utf-8'));
}

/**
 * kube-score at the version test/tools/kube-score.yaml pins, from the tools
 * cache of install.sh (<cache>/kube-score-<version>/kube-score); go-installed
 * there (atomically) if missing. kube-linter would be the first choice, but
 * the Go module proxy reachable here refuses every version of it.
 */
async function ensureKubeScore(version: string): Promise<string> {
  const dir = path.join(toolsCache(), `kube-score-${version}`);
  const bin = path.join(dir, 'kube-score');
  if (isExecutable(bin) && (await run(bin, ['version'], { allowFail: true })).code === 0) {
    progress(`  kube-score ${version} (cached: yes) ${bin}`);
    return bin;
  }
  progress(`  kube-score ${version} (cached: no): go install github.com/zegl/kube-score/cmd/kube-score@${version} (~1-2 min)…`);
  fs.mkdirSync(toolsCache(), { recursive: true });
  const gobin = fs.mkdtempSync(path.join(toolsCache(), `.kube-score-${version}.`));
  try {
    const started = Date.now();
    await run(await goBinary(toolEnv), ['install', '-trimpath', '-ldflags', `-s -w -X main.version=${version}`,
      `github.com/zegl/kube-score/cmd/kube-score@${version}`],
    { cwd: tmp, env: { ...toolEnv, GOBIN: gobin, GOFLAGS: '-buildvcs=false' }, echo: '    | ' });
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(path.join(gobin, 'kube-score'), bin);
    progress(`  kube-score ${version} built in ${((Date.now() - started) / 1000).toFixed(0)}s: ${bin}`);
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
  return bin;
}

// ----------------------------------------------------------------- steps ---

/** dist/<env> applied as Argo CD syncs it, then no diff (test/e2e/cluster-support.ts). */
function applyEnvironment(env: string): Promise<void> {
  return applyEnvironmentAsArgo(kube, env, namespaces, DIST, { expectedWarning: expectedClusterWarning(distObjects(env)) });
}

function podsOf(ns: string, selector: Record<string, string>): Promise<any[]> {
  return kube.podsOf(ns, selector);
}

function kubeScoreArgs(config: KubeScoreConfig, ignore: string[], format: string, files: string[]): string[] {
  return ['score', '--output-format', format, '--kubernetes-version', config.kubernetesVersion,
    ...ignore.flatMap(t => ['--ignore-test', t]), ...files];
}

async function scoreAll(): Promise<void> {
  const config = kubeScoreConfig();
  const known = new Set((await run(kubeScore, ['list'])).stdout.split('\n').map(l => l.split(',')[0]).filter(Boolean));
  for (const entry of config.ignore) {
    check(`kube-score.yaml: ${entry.check} is a kube-score check and has a written reason`,
      known.has(entry.check) && (entry.why ?? '').trim().length >= 40, `known: ${known.has(entry.check)}, why: ${JSON.stringify(entry.why)}`);
  }
  const used = new Set<KubeScoreIgnore>();
  for (const target of [...ENVS, 'apps', 'bootstrap']) {
    const files = manifestFiles(path.join(DIST, target));
    const entries = config.ignore.filter(e => !e.environments || e.environments.includes(target));
    const ignored = [...new Set(entries.map(e => e.check))];
    const ci = await run(kubeScore, kubeScoreArgs(config, ignored, 'ci', files), { allowFail: true });
    const lines = ci.stdout.split('\n').filter(l => l.trim());
    const bad = lines.filter(l => !/^\[(OK|SKIPPED)\] /.test(l));
    check(`kube-score dist/${target} (ignoring ${ignored.join(', ') || 'nothing'}): ${lines.length} lines, all [OK]/[SKIPPED]`,
      ci.code === 0 && bad.length === 0, [`exit ${ci.code}`, ci.stderr.trim(), ...bad].filter(Boolean).join('\n'));

    // No ignores: every finding must be covered by an entry, scoped as the entry says.
    // (kube-score exits 1 when it has critical findings; they are judged here.)
    const raw = await run(kubeScore, kubeScoreArgs(config, [], 'json', files), { allowFail: true });
    if (raw.code !== 0 && raw.code !== 1) throw new Error(`kube-score exited ${raw.code}: ${raw.stderr.trim()}`);
    // (An input without workload kinds, like dist/apps, gives `null`.)
    const objects = (JSON.parse(raw.stdout || 'null') ?? []) as any[];
    const uncovered: string[] = [];
    for (const o of objects) {
      for (const c of o.checks ?? []) {
        if (c.skipped || c.grade >= 10) continue;
        const comments: any[] = c.comments?.length ? c.comments : [{ path: '', summary: c.check.name }];
        for (const comment of comments) {
          const entry = entries.find(e => e.check === c.check.id && (!e.containers || e.containers.includes(comment.path)));
          if (entry) used.add(entry);
          else uncovered.push(`${o.object_name}: ${c.check.id}${comment.path ? ` (${comment.path})` : ''}: ${comment.summary}`);
        }
      }
    }
    check(`kube-score dist/${target}: every finding is accepted in test/tools/kube-score.yaml for its environment/container`,
      uncovered.length === 0, uncovered.join('\n'));
  }
  for (const entry of config.ignore) {
    check(`kube-score.yaml: ignoring ${entry.check}${entry.environments ? ` in ${entry.environments.join(', ')}` : ''} is still needed`, used.has(entry),
      'no finding matches it any more; remove the entry');
  }
}

/**
 * Each environment's database as its settings say, live: dev's StatefulSet; staging's and prod's
 * CloudNativePG Cluster (instances and synchronous replication of todo/environments.ts, fields git
 * leaves out defaulted by the CRD and the operator's webhook) and no StatefulSet or CronJob; prod's
 * ScheduledBackup and the sealed S3 key its Cluster reads.
 */
async function checkDatabases(): Promise<void> {
  for (const environment of TODO_ENVIRONMENTS.filter(e => namespaces[e.name])) {
    const { name: env, settings } = environment;
    const ns = namespaces[env];
    const kinds = distObjects(env).filter(o => o.metadata.name.startsWith('todo-db')).map(o => `${o.kind}/${o.metadata.name}`).sort();
    if (settings.databaseEngine === 'statefulset') {
      check(`dist/${env}: the database is the StatefulSet todo-db (no Cluster): ${kinds.join(', ')}`, kinds.includes('StatefulSet/todo-db') && !kinds.includes('Cluster/todo-db'));
      continue;
    }
    const backup = settings.databaseBackup !== undefined;
    const plugin = settings.databaseBackup?.method === 'plugin';
    equal(`dist/${env}: the database's objects: a CloudNativePG Cluster, its login, ${backup ? `a ScheduledBackup${plugin ? ', the Barman Cloud plugin\'s ObjectStore' : ''} and its sealed S3 key, ` : ''}its NetworkPolicy; no StatefulSet, no CronJob`,
      kinds, ['Cluster/todo-db', 'NetworkPolicy/todo-db', ...(backup ? ['ScheduledBackup/todo-db', 'SealedSecret/todo-db-backup'] : []),
        ...(plugin ? ['ObjectStore/todo-db-backup'] : []), 'SealedSecret/todo-db-credentials'].sort());
    const git = distObjects(env).find(o => o.kind === 'Cluster')!;
    const live = await kube.json(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', 'todo-db']);
    const synchronous = settings.databaseSynchronous ?? {};
    const liveSynchronous = Object.fromEntries(Object.keys(synchronous).map(k => [k, live.spec.postgresql?.synchronous?.[k]]));
    equal(`${ns}: live Cluster todo-db has the instances and synchronous replication of todo/environments.ts (${JSON.stringify(synchronous)})`,
      sortKeys([live.spec.instances, liveSynchronous]), sortKeys([settings.databaseInstances, synchronous]));
    const defaulted = Object.keys(live.spec).filter(k => !(k in git.spec)).sort();
    check(`${ns}: the API server defaulted fields git leaves out (the CRD's defaults, the operator's mutating webhook): ${defaulted.join(', ')}`, defaulted.length > 0);
    if (!backup) continue;
    const scheduled = await kube.json(['-n', ns, 'get', 'scheduledbackups.postgresql.cnpg.io', 'todo-db']);
    equal(`${ns}: live ScheduledBackup todo-db backs up Cluster todo-db to its object store on todo/environments.ts's schedule`,
      [scheduled.spec.cluster?.name, scheduled.spec.method, scheduled.spec.schedule], ['todo-db', settings.databaseBackup!.method ?? 'barmanObjectStore', settings.databaseBackup!.schedule]);
    const credentials = (await clusterStores(live, name => kube.json(['-n', ns, 'get', 'objectstores.barmancloud.cnpg.io', name]))).archive?.s3Credentials ?? {};
    const sealed = await kube.run(['-n', ns, 'get', 'sealedsecret', 'todo-db-backup'], { allowFail: true });
    check(`${ns}: the Cluster's S3 key is the SealedSecret todo-db-backup from git (${credentials.accessKeyId?.key}, ${credentials.secretAccessKey?.key})`,
      sealed.code === 0 && credentials.accessKeyId?.name === 'todo-db-backup' && credentials.secretAccessKey?.name === 'todo-db-backup', sealed.stderr);
  }
}

/** First path where two values differ, or undefined. */
function firstDifference(a: any, b: any, at = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${at}.${k}`);
      if (d) return d;
    }
  }
  return `${at || '.'}: ${JSON.stringify(a)?.slice(0, 200)} != ${JSON.stringify(b)?.slice(0, 200)}`;
}

function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])]));
  return v;
}

/** Lines of a component log that name a deprecated, removed or unknown flag. */
function flagComplaints(logFile: string): string[] {
  if (!fs.existsSync(logFile)) return [`${logFile} is missing`];
  return fs.readFileSync(logFile, 'utf-8').split('\n')
    .filter(l => /[Ff]lag --?\S+ has been deprecated|unknown flag|flag provided but not defined|will be removed/.test(l));
}

async function helmTemplate(env: string): Promise<string> {
  return (await run('helm', ['template', 'todo', CHART, '-f', path.join(CHART, `values-${env}.yaml`)], { env: toolEnv })).stdout;
}

async function main(): Promise<void> {
  const tools = await section([
    ['install/find tools (kubectl, kube-apiserver, etcd, helm, the CloudNativePG manager) with test/tools/install.sh, and kube-score', async () => {
      toolEnv = await installTools(['kube', 'debs', 'helm', 'cloudnative-pg']);
      await requireTools(toolEnv, ['kubectl', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'helm', 'manager', 'openssl', 'curl', 'diff']);
      kubeScore = await ensureKubeScore(kubeScoreConfig().version);
      const v = (await run(kubeScore, ['version'])).stdout.trim();
      check(`kube-score runs (${v})`, v.startsWith('kube-score version'));
    }],
  ]);
  if (!tools) {
    skipSteps(Array.from({ length: STEPS - 1 }, (_, i) => `step ${i + 2}`), 'tools missing');
    return;
  }

  clusterUp = await section([
    [`start etcd, kube-apiserver, kube-controller-manager, kube-scheduler ${KUBERNETES_VERSION} (the cluster program without nodes, --nodes 0); kubectl of the same version; no deprecated flag in their logs`, async () => {
      kube = new Kubectl(await startControlPlane(PLANE_DIR, toolEnv));
      const server = JSON.parse((await kubectl(['get', '--raw', '/version'])).stdout);
      progress(`  server ${server.gitVersion} (${server.goVersion}, ${server.platform})`);
      equal('GET /version: gitVersion is test/tools/kube/go.mod\'s', server.gitVersion, KUBERNETES_VERSION);
      const client = JSON.parse((await kubectl(['version', '--client', '-o', 'json'])).stdout).clientVersion;
      equal('kubectl --client: the same version', client.gitVersion, KUBERNETES_VERSION);
      for (const component of FLAG_CHECKED) {
        const complaints = flagComplaints(path.join(PLANE_DIR, 'logs', `${component}.log`));
        check(`${component}.log names no deprecated, removed or unknown flag of the cluster program`, complaints.length === 0, complaints.join('\n'));
      }
    }],
  ]);
  if (!clusterUp) {
    skipSteps(['CRDs', ...ENVS, 'apps', 'pods', 'admission', 're-diff', 'diff --cluster', 'negative control'], 'no control plane');
  } else {
    const crds = await section([
      [`install the Argo CD CRDs from ${path.relative(ROOT, CRDS)} (server-side) and wait until Established; dist/platform; the CloudNativePG operator serving its webhooks`, async () => {
        const names = await installCrds(kube, CRDS);
        check(`${names.length} CRDs in ${CRDS} (${names.join(', ')})`, names.includes('applications.argoproj.io') && names.includes('appprojects.argoproj.io'));
        // The environments' SealedSecrets and Clusters need the platform's CRDs (Argo CD syncs dist/platform first, wave -1),
        // and every Cluster the operator's webhooks (failurePolicy Fail).
        await applyPlatformAsArgo(kube, DIST, { waitReady: false });
        await startHostCloudNativePg(tmp, 'cloudnative-pg', PLANE_DIR, kube, toolEnv);
      }],
    ]);
    if (!crds) {
      skipSteps([...ENVS, 'apps', 'pods', 'admission', 're-diff', 'negative control'], 'no Argo CD CRDs');
    } else {
      for (const env of ENVS) {
        await section([[`${env}: namespace as Argo CD creates it, out-of-band Secret, apply dist/${env}/ as Argo CD (no warnings), then no diff`,
          () => applyEnvironment(env)]]);
      }
      await section([['apps: namespace argocd, apply dist/apps/ and dist/bootstrap/ (no warnings), then no diff', async () => {
        const created = await kubectl(['create', 'namespace', 'argocd'], { allowFail: true });
        check('namespace argocd created', created.code === 0, created.stderr);
        const objects = [...distObjects('apps'), ...distObjects('bootstrap')];
        equal('every object in dist/apps and dist/bootstrap goes to namespace argocd', [...new Set(objects.map(o => o.metadata.namespace))], ['argocd']);
        const files = [...manifestFiles(path.join(DIST, 'apps')), ...manifestFiles(path.join(DIST, 'bootstrap'))];
        await applyAsArgo(kube, 'dist/apps + dist/bootstrap', files, objects);
        await assertNoDiff('dist/apps + dist/bootstrap', files);
      }]]);
      await section([['workloads: the controller manager creates every Deployment\'s and StatefulSet\'s pods and a Job\'s from each CronJob; PodSecurity admits them; each environment\'s database as its settings say', async () => {
        for (const env of ENVS.filter(e => namespaces[e])) await checkPodsAdmitted(kube, namespaces[env], distObjects(env), 180_000);
        await checkDatabases();
      }]]);
      await section([['admission: no pod creation was refused (FailedCreate / "violates PodSecurity") in any environment', async () => {
        for (const env of ENVS.filter(e => namespaces[e])) {
          const refused = await refusedPods(kube, namespaces[env]);
          check(`${namespaces[env]}: no refused pod creations`, refused.length === 0, refused.join('\n'));
        }
      }]]);
      await section([['after the controllers ran (pods, HPA, StatefulSet claims): still no diff for any environment or the apps; '
        + 'the suites\' polls answered by the API server print what kubectl prints', async () => {
        for (const env of ENVS.filter(e => namespaces[e])) await assertNoDiff(`dist/${env} after the controllers`, manifestFiles(path.join(DIST, env)), env);
        await assertNoDiff('dist/apps + dist/bootstrap after the controllers',
          [...manifestFiles(path.join(DIST, 'apps')), ...manifestFiles(path.join(DIST, 'bootstrap'))]);
        await checkApiGets();
      }]]);
      await section([['npm run diff -- --cluster: the live cluster against a server-side dry run of the working tree; a hand edit shows, with its field', async () => {
        const diffCluster = () => run(process.execPath, [path.join(ROOT, 'scripts', 'run-compiled.js'), 'todo/cli.ts', 'diff', '--cluster', '--format', 'json'],
          { cwd: ROOT, env: kube.env, allowFail: true });
        const clean = await diffCluster();
        equal('no change: exit 0', clean.code, 0);
        check('it asked the cluster (progress names the server-side dry run)', /\[diff 2\/3\] ask the cluster/.test(clean.stderr), clean.stderr);
        check('no object changed', clean.code === 0 && JSON.parse(clean.stdout).changes.length === 0, clean.stdout.slice(0, 2000));
        const ns = namespaces.staging;
        await kubectl(['-n', ns, 'scale', 'deployment', 'todo', '--replicas=5']);
        try {
          const edited = await diffCluster();
          equal('a hand-scaled Deployment: exit 1', edited.code, 1);
          const changes = edited.code === 1 ? JSON.parse(edited.stdout).changes : [];
          equal('exactly that change, live 5 -> 2 from git', changes.map((c: any) => [c.directory, c.kind, c.name, c.fields]),
            [['staging', 'Deployment', 'todo', [{ path: 'spec.replicas', before: 5, after: 2 }]]]);
        } finally {
          await kubectl(['-n', ns, 'scale', 'deployment', 'todo', '--replicas=2']);
        }
      }]]);
      await section([[`negative control: a non-compliant Deployment in ${NEGATIVE_ENV} warns on apply and its pods are refused`, async () => {
        const ns = namespaces[NEGATIVE_ENV];
        if (!ns) throw new Error(`namespace of ${NEGATIVE_ENV} unknown`);
        const name = 'e2e-noncompliant';
        const deployment = {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace: ns },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              // No securityContext at all: root allowed, privilege escalation, all capabilities, no seccomp.
              spec: { containers: [{ name: 'c', image: `registry.invalid/e2e@sha256:${'0'.repeat(64)}` }] },
            },
          },
        };
        const r = await applyText(YAML.stringify(deployment), 'e2e');
        check('apply succeeds (the Deployment itself is not a pod)', r.code === 0, r.stderr);
        check('apply warns: would violate PodSecurity "restricted:latest"', /Warning: would violate PodSecurity "restricted:latest"/.test(r.stderr), r.stderr.trim() || '(no stderr)');
        let refused: string[] = [];
        await waitFor('a FailedCreate for the non-compliant pods', 60_000, async () => {
          refused = (await refusedPods(kube, ns)).filter(l => l.includes(name) && /violates PodSecurity "restricted:latest"/.test(l));
          return refused.some(l => l.startsWith('ReplicaSet/') && /ReplicaFailure|FailedCreate/.test(l));
        }, 1000).catch(() => undefined);
        check('the ReplicaSet\'s pods are forbidden: violates PodSecurity "restricted:latest" (so the admission check can fail)', refused.length > 0, 'no FailedCreate event or ReplicaFailure condition appeared');
        equal('no pod of the non-compliant Deployment exists', (await podsOf(ns, { app: name })).length, 0);
        await kubectl(['-n', ns, 'delete', 'deployment', name, '--wait=true', '--timeout=60s']);
      }]]);
    }
  }

  await section([['kube-score over dist/<env>, dist/apps and dist/bootstrap: only findings accepted in test/tools/kube-score.yaml', scoreAll]]);

  await section([['helm lint helm/todo --strict (defaults and each values-<env>.yaml)', async () => {
    for (const values of [undefined, ...ENVS]) {
      const args = ['lint', CHART, '--strict', ...(values ? ['-f', path.join(CHART, `values-${values}.yaml`)] : [])];
      const r = await run('helm', args, { env: toolEnv, allowFail: true });
      check(`helm lint --strict${values ? ` -f values-${values}.yaml` : ''}: 0 chart(s) failed`,
        r.code === 0 && /1 chart\(s\) linted, 0 chart\(s\) failed/.test(r.stdout), (r.stdout + r.stderr).trim());
    }
  }]]);

  await section([['helm template todo helm/todo -f values-<env>.yaml yields the objects of dist/<env> (by kind/namespace/name, deep-equal)', async () => {
    for (const env of ENVS) {
      const rendered = YAML.parseAllDocuments(await helmTemplate(env)).map(d => d.toJS()).filter(Boolean) as K8sObject[];
      const want = new Map(distObjects(env).map(o => [keyOf(o), o]));
      const got = new Map(rendered.map(o => [keyOf(o), o]));
      equal(`${env}: helm renders ${got.size} objects with unique keys`, got.size, rendered.length);
      equal(`${env}: same object keys as dist/${env}`, [...got.keys()].sort(), [...want.keys()].sort());
      const differing = [...want.keys()].filter(k => got.has(k))
        .map(k => [k, firstDifference(sortKeys(got.get(k)), sortKeys(want.get(k)))]).filter(([, d]) => d);
      check(`${env}: every object deep-equals its dist/${env} counterpart`, differing.length === 0,
        differing.map(([k, d]) => `${k} ${d}`).join('\n'));
    }
  }]]);

  if (!clusterUp || !namespaces[HELM_DIFF_ENV]) {
    skipSteps([`helm template for ${HELM_DIFF_ENV}: kubectl diff against the cluster`], `${HELM_DIFF_ENV} was not applied`);
  } else {
    await section([[`helm template for ${HELM_DIFF_ENV}: kubectl diff --server-side against what dist/${HELM_DIFF_ENV} applied shows no changes`, async () => {
      const file = path.join(tmp, `helm-${HELM_DIFF_ENV}.yaml`);
      fs.writeFileSync(file, await helmTemplate(HELM_DIFF_ENV));
      await assertNoDiff(`helm template (values-${HELM_DIFF_ENV}.yaml)`, [file], HELM_DIFF_ENV);
    }]]);
  }
}

e2eMain({ steps: STEPS, tmp }, main);
