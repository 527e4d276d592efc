/**
 * End-to-end test with real Argo CD (v3.6.1, built by test/tools/install.sh
 * argocd): redis, argocd-repo-server and argocd-application-controller run
 * against a throw-away control plane with a kwok fake node, and sync this
 * repository's committed tree from a local git repository.
 *
 * - The served repository is a clone of this repository's HEAD whose tree is
 *   re-synthesized through the public library (GitOpsRepository with the todo
 *   stack and environments) with repoUrl = file://<clone>, the way a fork
 *   sets its own URL; nothing is edited by hand except the bad commit.
 * - Bootstrap as the README says: Secrets first, then only dist/bootstrap/.
 *   Argo CD creates the AppProject and the Applications from dist/apps/; every
 *   environment must be Synced and Healthy within BOOTSTRAP_LIMIT_S; sync
 *   waves order the database before the web service (Argo CD's operation state).
 * - Hard refreshes leave nothing OutOfSync.
 * - The GitOps loop: `npm run build:image` with ko into a local registry, the
 *   new lock and dist/ committed, exactly that digest rolled out; self-heal;
 *   prune; a bad commit reported and recovered. Commit-to-Synced/Healthy times
 *   are printed.
 *
 *   source /tmp/work/tools.env   # or: eval "$(test/tools/install.sh)"
 *   npx ts-node --transpile-only test/e2e/argocd.ts      # ~7-8 min on 2 cores with the tools cached
 *
 * The test cluster has no ingress controller and no metrics API: the test
 * plays the ingress controller (it sets each Ingress's status.loadBalancer, as
 * kwok plays the kubelet), and prod's HorizontalPodAutoscaler may be Degraded
 * ("failed to get cpu utilization"), accepted only as the single non-Healthy
 * resource of prod. staging's and prod's databases are CloudNativePG
 * `Cluster`s: the real operator runs as a process and serves the admission
 * webhooks every Cluster passes (test/e2e/cnpg-support.ts), but no node runs
 * Postgres, so the test writes each Cluster's healthy status itself, for Argo
 * CD to go on from the database's sync wave to the web tier: a named, checked
 * exception (real health: test/e2e/cloudnative-pg.ts).
 *
 * Step 8 guards a finding of this test: Applications that carried
 * source.directory {recurse: false}, which Argo CD normalizes away, kept the
 * app-of-apps root OutOfSync forever (ArgoCdApplication now leaves it out).
 *
 * The control plane is the cluster program's without nodes (test/tools/cluster/,
 * its own network namespace; root). Everything else listens on 127.0.0.1 (except
 * the controller's metrics port, which has no address flag: a free port on all
 * interfaces) and lives in one temporary directory; every process is stopped on exit, failure or SIGINT.
 * Prints "[e2e i/N] ..." and ends with "N passed, N failed".
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ARGOCD_NS, Applications, ServedRepository, admitIngresses, argoCdBaseObjects, describeApplication, onlyHpaWithoutMetrics,
  outOfSyncResources, prepareEnvironment, settled, startArgoCd, unhealthyResources,
} from './argocd-support';
import {
  ARGOCD_CRDS, K8sObject, Kubectl, distObjects, installCrds, manifestFiles, readObjects, kwokWatchListErrors, startControlPlane, startKwok,
} from './cluster-support';
import { checkFakedClusterHealth, startHostCloudNativePg, writeHealthyClusterStatus } from './cnpg-support';
import {
  ROOT, check, e2eMain, equal, hashTree, installTools, onCleanup, progress, recordTiming, requireTools, run,
  section, skipSteps, stopProcess, waitFor,
} from './harness';
import { makeBaseImage, startRegistry } from './registry-support';
import { checkSameButSealed, sealWithOwnKey, startHostSealedSecrets, withSealedLogins } from './sealed-secrets-support';
import { GitOpsEnvironment, GitOpsRepository, ImageLock } from '../../src';
import { TODO_ENVIRONMENTS, TODO_GIT, TodoSettings } from '../../todo/environments';
import { TODO_PLATFORM } from '../../todo/repository';
import { buildTodoStack } from '../../todo/todo-stack';

const STEPS = 15;
const ROOT_APP = 'todo-root';
const ENVS = TODO_ENVIRONMENTS.map(e => e.name);
/** Bootstrap (kubectl apply -f dist/bootstrap) to every Application Synced and Healthy. */
const BOOTSTRAP_LIMIT_S = 240;
/** A commit to its Applications Synced (at that revision) and Healthy. */
const COMMIT_LIMIT_S = 120;
/**
 * A commit of a new image digest to every environment rolled out, Synced and Healthy: prod's three
 * web replicas replaced one at a time. Measured 28.6 s on a quiet machine, 105.5 s beside CloudNativePG's
 * drills on a cold one, and once not yet begun after 119 s (the Deployment at "0 out of 3 new replicas
 * updated") beside them (cause not yet found; that run passed every other step).
 */
const ROLLOUT_LIMIT_S = 240;
/** Self-heal of a change made by hand. */
const SELF_HEAL_LIMIT_S = 60;
/**
 * A good commit after a bad one. The Applications retry a failed sync with `retry.refresh`, so a retry
 * takes the newest revision; without it they retried the *bad* revision 5 times (5s x2, up to 3m)
 * first, which took 331 s here.
 */
const RECOVERY_LIMIT_S = COMMIT_LIMIT_S;
const HARD_REFRESHES = 3;

// ------------------------------------------------------------ test state ---

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-argocd-'));
const repo = path.join(tmp, 'todo-gitops');
/** The control plane's directory (the cluster program's `up DIR`). */
const PLANE_DIR = path.join(tmp, 'control-plane');
const repoUrl = `file://${repo}`;
/** staging's and prod's logins, sealed with the test's own controller key (the fork's sealed-secrets/). */
const SEALED_DIR = path.join(repo, 'sealed-secrets');
let sealingKey: K8sObject = {};
let toolEnv: NodeJS.ProcessEnv = process.env;
let kube = new Kubectl(process.env);
let served = new ServedRepository(repo, toolEnv);
let apps = new Applications(kube);
let argoUp = false;
const timings: string[] = [];
/** Environment name -> namespace, from TODO_ENVIRONMENTS. */
const namespaces: Record<string, string> = Object.fromEntries(TODO_ENVIRONMENTS.map(e => [e.name, e.namespace]));

// ------------------------------------------------- the served repository ---

/** The todo repository as a fork configures it: the library, the todo stack and environments, its own URL. */
function servedRepository(
  environments: ReadonlyArray<GitOpsEnvironment<TodoSettings>> = withSealedLogins(TODO_ENVIRONMENTS, SEALED_DIR),
): GitOpsRepository<TodoSettings> {
  const committedProject = readObjects(manifestFiles(path.join(ROOT, 'dist', 'apps'))[0]).find(o => o.kind === 'AppProject');
  return new GitOpsRepository<TodoSettings>({
    name: 'todo',
    repoUrl,
    targetRevision: TODO_GIT.targetRevision,
    description: committedProject?.spec?.description,
    environments,
    stack: buildTodoStack,
    platform: TODO_PLATFORM,
    helmChart: {},
  });
}

function synthServed(environments?: ReadonlyArray<GitOpsEnvironment<TodoSettings>>): void {
  servedRepository(environments).synth({
    outdir: path.join(repo, 'dist'),
    helmDir: path.join(repo, 'helm', 'todo'),
    lock: ImageLock.fromFile(path.join(repo, 'images.lock.json')),
  });
}

function servedObjects(dir: string): K8sObject[] {
  return manifestFiles(path.join(repo, 'dist', dir)).flatMap(readObjects);
}

// ----------------------------------------------------------- Argo CD API ---

/**
 * Per Application, the sync result with the most resources seen: the full first sync of the
 * bootstrap. status.operationState holds only the latest operation, and a later self-heal of one or
 * two objects replaces it within a second, so `watchApplications` records every version of every
 * Application as the API server streams it.
 */
const fullestSyncResult = new Map<string, any[]>();

/**
 * Each Application's states as the watch saw them change (sync, health, operation phase, retries,
 * operation message), with the seconds since the watch started: where a bootstrap's time goes.
 */
const timeline: string[] = [];
const lastState = new Map<string, string>();
let watchStarted = 0;

/** Prints the timeline's entries from `from` on; `note` says what happened when. */
function printTimeline(from: number, note = ''): void {
  progress(`  the Applications as they changed (seconds since dist/bootstrap/ was applied${note}):\n${timeline.slice(from).map(l => `    | ${l}`).join('\n')}`);
}

function recordSyncResult(app: any): void {
  // A running operation's results grow wave by wave; the most seen is the full sync's.
  const results: any[] | undefined = app?.status?.operationState?.syncResult?.resources;
  const name = app?.metadata?.name;
  if (name && results && results.length > (fullestSyncResult.get(name)?.length ?? 0)) fullestSyncResult.set(name, results);
  const operation = app?.status?.operationState;
  const state = `${app?.status?.sync?.status ?? '-'} ${app?.status?.health?.status ?? '-'} ${operation?.phase ?? '-'}`
    + `${operation?.retryCount ? ` retry ${operation.retryCount}` : ''}: ${String(operation?.message ?? '').slice(0, 140)}`
    + `${app?.status?.health?.status === 'Progressing' ? `; ${unhealthyResources(app).join(', ').slice(0, 200)}` : ''}`;
  if (name && lastState.get(name) !== state) {
    lastState.set(name, state);
    timeline.push(`${((Date.now() - watchStarted) / 1000).toFixed(1).padStart(6)} s  ${name}: ${state}`);
  }
}

/** Streams every change of the Applications (`kubectl get -w -o json`) into {@link recordSyncResult}. */
function watchApplications(): void {
  watchStarted = Date.now();
  const child = spawn('kubectl', ['-n', ARGOCD_NS, 'get', 'applications', '--watch', '-o', 'json'], { env: kube.env, stdio: ['ignore', 'pipe', 'ignore'] });
  onCleanup('stop watching the Applications', async () => { await stopProcess(child, 5_000); });
  // The stream is one JSON object after another: split at the end of each top-level object.
  let buffer = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  child.stdout!.setEncoding('utf-8');
  child.stdout!.on('data', (chunk: string) => {
    for (const ch of chunk) {
      buffer += ch;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
      } else if (ch === '"') {
        inString = true;
      } else if (ch === '{') {
        if (depth++ === 0) start = buffer.length - 1;
      } else if (ch === '}' && --depth === 0) {
        recordSyncResult(JSON.parse(buffer.slice(start)));
        buffer = '';
      }
    }
  });
}

function appName(env: string): string {
  return `todo-${env}`;
}

/**
 * Waits until each Application has settled (at `revision`), playing the ingress controller
 * meanwhile, and writing the healthy status of each CloudNativePG Cluster (checked as faked after the bootstrap).
 */
function waitSettled(names: string[], limitS: number, since: number, revision?: string): Promise<number> {
  return apps.waitSettled(names, limitS, since, revision, async () => {
    for (const env of ENVS) {
      await admitIngresses(kube, namespaces[env]);
      await writeHealthyClusterStatus(kube, namespaces[env]);
    }
  });
}

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

// ----------------------------------------------------------------- steps ---

/**
 * For each Application of dist/apps: where the live spec differs from git,
 * and its generation (a number that keeps rising means two writers fight).
 */
async function applicationDrift(): Promise<string[]> {
  const out: string[] = [];
  for (const want of servedObjects('apps').filter(o => o.kind === 'Application')) {
    const live = await apps.get(want.metadata.name);
    const d = firstDifference(live?.spec, want.spec);
    if (d) out.push(`  ${want.metadata.name} (generation ${live?.metadata?.generation}): live spec${d}`);
  }
  return out;
}

/** First path where `live` lacks or differs from a field of `want` (extra live fields are ignored). */
function firstDifference(live: any, want: any, at = ''): string | undefined {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    if (!live || typeof live !== 'object') return `${at}: ${JSON.stringify(live)} instead of ${JSON.stringify(want)}`;
    for (const k of Object.keys(want)) {
      const d = firstDifference(live[k], want[k], `${at}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return JSON.stringify(live) === JSON.stringify(want) ? undefined : `${at}: ${JSON.stringify(live)} instead of ${JSON.stringify(want)}`;
}

/** The image of the `app` container of Deployment todo, from objects. */
function webImage(objects: K8sObject[]): string {
  const d = objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'todo');
  return d?.spec?.template?.spec?.containers?.find((c: any) => c.name === 'app')?.image;
}

/** Spec-like content of every object of an environment, to show nothing changed. */
async function liveFingerprint(env: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const o of servedObjects(env)) {
    const r = await kube.run(['-n', namespaces[env], 'get', o.kind.toLowerCase(), o.metadata.name, '-o', 'json'], { allowFail: true });
    if (r.code !== 0) { out[`${o.kind}/${o.metadata.name}`] = 'absent'; continue; }
    const live = JSON.parse(r.stdout);
    out[`${o.kind}/${o.metadata.name}`] = JSON.stringify([live.metadata.generation, live.spec, live.data, live.metadata.labels]);
  }
  return out;
}

async function main(): Promise<void> {
  const ready = await section([
    ['install/find tools (kube, kwok, ko, crane, argocd, the CloudNativePG manager, redis-server, git) with test/tools/install.sh', async () => {
      toolEnv = await installTools(['kube', 'debs', 'kwok', 'ko', 'crane', 'argocd', 'sealed-secrets', 'cloudnative-pg']);
      served = new ServedRepository(repo, toolEnv);
      const ok = await requireTools(toolEnv, ['kubectl', 'kube-apiserver', 'etcd', 'kwok', 'ko', 'crane', 'git', 'redis-server', 'manager',
        'argocd-application-controller', 'argocd-repo-server', 'git-verify-wrapper.sh', 'gpg-wrapper.sh']);
      if (!ok) throw new Error('tools missing');
    }],
    ['start etcd, kube-apiserver, kube-controller-manager, kube-scheduler (the cluster program without nodes) and a kwok node', async () => {
      kube = new Kubectl(await startControlPlane(PLANE_DIR, toolEnv));
      apps = new Applications(kube);
      apps.onRead = recordSyncResult;
      await startKwok(tmp, kube, toolEnv);
    }],
    ['serve the repository: clone HEAD, synthesize it with repoUrl file://<clone> through GitOpsRepository, commit', async () => {
      await served.cloneFrom(ROOT, TODO_GIT.targetRevision);
      // The fork seals its logins with its own controller's key (a key it brings, restored below).
      sealingKey = await sealWithOwnKey(path.join(tmp, 'sealing-key'), SEALED_DIR, servedRepository(), ['staging', 'prod']);
      synthServed();
      for (const env of ENVS) checkSameButSealed(path.join(repo, 'dist'), path.join(ROOT, 'dist'), env);
      equal('dist/platform synthesized for the fork is byte-identical to the committed one', hashTree(path.join(repo, 'dist', 'platform')), hashTree(path.join(ROOT, 'dist', 'platform')));
      for (const dir of ['apps', 'bootstrap']) {
        const forked = manifestFiles(path.join(repo, 'dist', dir)).map(f => fs.readFileSync(f, 'utf-8')).join('');
        const committed = manifestFiles(path.join(ROOT, 'dist', dir)).map(f => fs.readFileSync(f, 'utf-8')).join('');
        check(`dist/${dir}: only the repository URL differs from the committed tree (${TODO_GIT.repoUrl} -> ${repoUrl})`,
          forked !== committed && forked.split(repoUrl).join(TODO_GIT.repoUrl) === committed);
      }
      const rev = await served.commitAll('e2e: serve this repository from file:// (synthesized with its own repoUrl)');
      await served.checkServed(TODO_GIT.targetRevision, rev);
    }],
    ['Argo CD: CRDs (server-side), namespace argocd, argocd-cm, argocd-secret, default AppProject; start redis, repo-server, application-controller; the Sealed Secrets controller with the fork\'s key restored; the CloudNativePG operator serving its webhooks', async () => {
      await installCrds(kube, ARGOCD_CRDS);
      // The cluster has no node that runs pods: the controllers run as processes here (Argo CD syncs their objects all the same).
      await startHostSealedSecrets(tmp, 'sealed-secrets', kube, toolEnv, sealingKey, path.join(repo, 'dist'));
      await startHostCloudNativePg(tmp, 'cloudnative-pg', PLANE_DIR, kube, toolEnv);
      const r = await kube.apply(argoCdBaseObjects(), 'e2e');
      check('argocd namespace, argocd-cm, argocd-secret and the default AppProject applied', r.code === 0, r.stderr);
      await startArgoCd(tmp, kube, toolEnv);
      argoUp = true;
    }],
  ]);
  if (!ready) {
    if (!argoUp) skipSteps(Array.from({ length: STEPS - 4 }, (_, i) => `step ${i + 5}`), 'Argo CD is not running');
    return;
  }

  const bootstrapped = await section([
    ['before bootstrap: PersistentVolumes for every claim (the test cluster has no provisioner; the logins are sealed in git)', async () => {
      for (const env of ENVS) await prepareEnvironment(kube, namespaces[env], servedObjects(env));
    }],
    [`bootstrap: kubectl apply -f dist/bootstrap/ only; Argo CD creates the AppProject and Applications; all Synced and Healthy within ${BOOTSTRAP_LIMIT_S}s`, async () => {
      watchApplications();
      const started = Date.now();
      const r = await kube.run(['apply', '-f', path.join(repo, 'dist', 'bootstrap')]);
      check('kubectl apply -f dist/bootstrap/ created todo-root', /todo-root created/.test(r.stdout), r.stdout);
      await waitFor('the AppProject and Applications from dist/apps', BOOTSTRAP_LIMIT_S * 1000, async () =>
        (await kube.run(['-n', ARGOCD_NS, 'get', 'appproject', 'todo'], { allowFail: true })).code === 0
        && (await Promise.all(ENVS.map(e => apps.get(appName(e))))).every(Boolean), 1000);
      const project = await kube.json(['-n', ARGOCD_NS, 'get', 'appproject', 'todo']);
      equal('AppProject todo (created by Argo CD) allows exactly the served repository', project.spec.sourceRepos, [repoUrl]);
      const seconds = await waitSettled(ENVS.map(appName), BOOTSTRAP_LIMIT_S, started);
      timing('bootstrap to every environment\'s Application Synced and Healthy', seconds);
      printTimeline(0);
      const refused = kwokWatchListErrors(tmp);
      check(`kwok's watches held: none ended for want of watch-list support (${refused.length} did)`, refused.length === 0, refused.slice(0, 3).join('\n'));
      // The root's own sync state is judged by the next-but-one step (hard refreshes); here: it ran and is Healthy.
      const root = await apps.get(ROOT_APP);
      check(`${ROOT_APP}: its sync operation Succeeded and it is Healthy — ${describeApplication(root)}`,
        root?.status?.operationState?.phase === 'Succeeded' && root?.status?.health?.status === 'Healthy');
      equal(`${ROOT_APP}: source.repoURL`, root?.spec?.source?.repoURL, repoUrl);
      for (const name of ENVS.map(appName)) {
        const app = await apps.get(name);
        check(`${name}: Synced, Healthy${name === 'todo-prod' ? ' (or only the HPA without metrics Degraded)' : ''} — ${describeApplication(app)}`, settled(app));
        equal(`${name}: source.repoURL`, app.spec.source.repoURL, repoUrl);
      }
      // staging's login; prod's login and the S3 key of its backups, both sealed with the fork's key.
      for (const [name, secrets] of [['todo-staging', ['todo-db-credentials']], ['todo-prod', ['todo-db-backup', 'todo-db-credentials']]] as const) {
        const sealed = ((await apps.get(name)).status.resources ?? []).filter((resource: any) => resource.kind === 'SealedSecret');
        equal(`${name}: Argo CD shows its SealedSecrets Healthy (the controller opened them)`, sealed.map((resource: any) => `${resource.name} ${resource.health?.status}`).sort(),
          secrets.map(s => `${s} Healthy`));
      }
      for (const env of ['staging', 'prod']) {
        equal(`${appName(env)}: Argo CD shows Cluster todo-db Healthy by its own check for postgresql.cnpg.io/Cluster`,
          ((await apps.get(appName(env))).status.resources ?? []).filter((resource: any) => resource.kind === 'Cluster').map((resource: any) => `${resource.name} ${resource.health?.status}`), ['todo-db Healthy']);
        await checkFakedClusterHealth(kube, namespaces[env], appName(env));
      }
      const prod = await apps.get('todo-prod');
      if (prod.status.health.status !== 'Healthy') {
        check(`todo-prod: the only non-Healthy resource is the HPA, for lack of a metrics API (${unhealthyResources(prod).join('; ')})`, onlyHpaWithoutMetrics(prod));
      }
      for (const env of ENVS) {
        const ns = await kube.json(['get', 'namespace', namespaces[env]]);
        equal(`namespace ${namespaces[env]}: PodSecurity enforce label from managedNamespaceMetadata`, ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      }
    }],
    ['sync waves: in Argo CD\'s operation state (of the bootstrap\'s full sync) the database (wave 0: dev\'s StatefulSet, staging\'s and prod\'s Cluster) was applied before the web service (wave 1)', async () => {
      for (const env of ENVS) {
        const app = await apps.get(appName(env));
        const results: any[] = fullestSyncResult.get(appName(env)) ?? [];
        const waves = new Map<string, number>((app.status.resources ?? []).map((r: any) => [`${r.kind}/${r.name}`, r.syncWave ?? 0]));
        const at = (kind: string, name: string) => results.findIndex(r => r.kind === kind && r.name === name);
        const kind = env === 'dev' ? 'StatefulSet' : 'Cluster';
        equal(`dist/${env}: the database todo-db is a ${kind}`, servedObjects(env).filter(o => o.metadata.name === 'todo-db' && ['StatefulSet', 'Cluster'].includes(o.kind)).map(o => o.kind), [kind]);
        const db = at(kind, 'todo-db');
        const web = at('Deployment', 'todo');
        check(`${appName(env)}: syncResult lists ${kind} todo-db (#${db}) before Deployment todo (#${web}), ${results.length} results`, db >= 0 && web > db);
        check(`${appName(env)}: status.resources syncWave ${kind} todo-db ${waves.get(`${kind}/todo-db`)} < Deployment todo ${waves.get('Deployment/todo')}`,
          (waves.get(`${kind}/todo-db`) ?? NaN) < (waves.get('Deployment/todo') ?? NaN));
        const dbWave = waves.get(`${kind}/todo-db`)!;
        const laterApplied = results.slice(0, db).filter(r => (waves.get(`${r.kind}/${r.name}`) ?? 0) > dbWave).map(r => `${r.kind}/${r.name}`);
        equal(`${appName(env)}: nothing of a later wave was applied before the database`, laterApplied, []);
        equal(`${appName(env)}: every sync result succeeded`, results.filter(r => r.status !== 'Synced').map(r => `${r.kind}/${r.name}: ${r.status} ${r.message}`), []);
      }
    }],
  ]);
  if (!bootstrapped) {
    skipSteps(['hard refreshes', 'image build', 'rollout', 'self-heal', 'prune', 'bad commit', 'recovery'], 'bootstrap failed');
    return;
  }
  // Judged on its own: a perpetual OutOfSync is a finding, and the GitOps loop below still runs.
  await section([
    [`no perpetual OutOfSync: ${HARD_REFRESHES} hard refreshes, each Application still Synced with 0 resources OutOfSync`, async () => {
      const names = [ROOT_APP, ...ENVS.map(appName)];
      for (let i = 1; i <= HARD_REFRESHES; i++) {
        for (const [j, { app, reconciledBefore }] of (await apps.hardRefresh(names)).entries()) {
          const outOfSync = outOfSyncResources(app);
          if (names[j] === ROOT_APP) outOfSync.push(...await applicationDrift());
          check(`hard refresh ${i}: ${names[j]} Synced, ${(app.status.resources ?? []).length} resources, 0 OutOfSync, reconciled again`,
            app.status.sync.status === 'Synced' && outOfSync.length === 0 && reconciledBefore !== app.status.reconciledAt, outOfSync.join('\n') || describeApplication(app));
        }
      }
    }],
  ]);

  // ------------------------------------------------------ the GitOps loop ---
  let registry = '';
  let reference = '';
  await section([
    ['image: local registry, non-root base image, `npm run build:image -- --builder ko --repository 127.0.0.1:<port>/acme/todo`', async () => {
      registry = await startRegistry(tmp, toolEnv);
      const baseImage = await makeBaseImage(tmp, registry, toolEnv);
      const cliDist = path.join(tmp, 'cli-dist');
      fs.cpSync(path.join(repo, 'dist'), cliDist, { recursive: true });
      const lockFile = path.join(repo, 'images.lock.json');
      const r = await run('npm', ['run', '--silent', 'build:image', '--', '--builder', 'ko', '--repository', `${registry}/acme/todo`,
        '--lock', lockFile, '--outdir', cliDist, '--helm-dir', path.join(tmp, 'cli-helm')],
      { env: { ...toolEnv, KO_DEFAULTBASEIMAGE: baseImage, SEALED_SECRETS_DIR: SEALED_DIR }, allowFail: true, echo: '    | ' });
      if (!check('npm run build:image exits 0', r.code === 0, r.stderr.slice(-1500))) return;
      const entry = JSON.parse(fs.readFileSync(lockFile, 'utf-8')).images.todo;
      const remote = (await run('crane', ['digest', `${registry}/acme/todo:${entry.tag}`], { env: toolEnv })).stdout.trim();
      equal('the lock pins the digest the registry serves', entry.digest, remote);
      reference = `${registry}/acme/todo@${remote}`;
      // The build CLI synthesizes with the project's TODO_REPOSITORY (repoUrl fixed in todo/environments.ts);
      // the fork re-synthesizes its tree from the new lock, and the environments must be what the CLI wrote.
      synthServed();
      for (const env of ENVS) {
        equal(`dist/${env}: the fork's synth from the new lock equals the build CLI's`,
          hashTree(path.join(repo, 'dist', env)), hashTree(path.join(cliDist, env)));
      }
      equal('dist/prod Deployment todo pins the new digest', webImage(servedObjects('prod')), reference);
    }],
    ['rollout: commit the new lock and dist/; every environment syncs it and rolls out exactly that digest', async () => {
      const rev = await served.commitAll(`deploy todo ${reference.split('@')[1]}`);
      const started = Date.now();
      const seen = timeline.length;
      await apps.refresh([ROOT_APP, ...ENVS.map(appName)], 'normal');
      try {
        timing('commit (new image digest) to every environment Synced and Healthy', await waitSettled(ENVS.map(appName), ROLLOUT_LIMIT_S, started, rev));
      } finally {
        printTimeline(seen, `; the commit at ${((started - watchStarted) / 1000).toFixed(1)} s`);
      }
      for (const env of ENVS) {
        const ns = namespaces[env];
        const want = webImage(servedObjects(env));
        const d = await kube.json(['-n', ns, 'get', 'deployment', 'todo']);
        equal(`${ns}: live Deployment todo runs the image dist/${env} pins`, webImage([d]), want);
        const pods = (await kube.podsOf(ns, d.spec.selector.matchLabels)).filter((p: any) => !p.metadata.deletionTimestamp);
        const images = [...new Set(pods.map((p: any) => p.spec.containers.find((c: any) => c.name === 'app')?.image))];
        check(`${ns}: all ${pods.length} pod(s) of Deployment todo run ${want} (updated ${d.status.updatedReplicas}/${d.spec.replicas})`,
          images.length === 1 && images[0] === want && d.status.updatedReplicas === d.spec.replicas && pods.length === d.spec.replicas,
          JSON.stringify(images));
      }
      equal('prod runs exactly the digest the build pushed', webImage([await kube.json(['-n', namespaces.prod, 'get', 'deployment', 'todo'])]), reference);
    }],
  ]);

  await section([['self-heal: scale Deployment todo in staging by hand and delete the NetworkPolicy of dev; Argo CD restores both', async () => {
    const staging = namespaces.staging;
    const wanted = servedObjects('staging').find(o => o.kind === 'Deployment' && o.metadata.name === 'todo')!.spec.replicas;
    let started = Date.now();
    await kube.run(['-n', staging, 'scale', 'deployment', 'todo', `--replicas=${wanted + 3}`]);
    await waitFor(`${staging} Deployment todo back to ${wanted} replicas`, SELF_HEAL_LIMIT_S * 1000, async () =>
      (await kube.json(['-n', staging, 'get', 'deployment', 'todo'])).spec.replicas === wanted, 500);
    timing(`self-heal: scaled to ${wanted + 3} by hand, back to ${wanted}`, (Date.now() - started) / 1000);
    check(`${staging}: spec.replicas restored to ${wanted}`, true);

    const dev = namespaces.dev;
    const policy = servedObjects('dev').find(o => o.kind === 'NetworkPolicy')!.metadata.name;
    const uid = (await kube.json(['-n', dev, 'get', 'networkpolicy', policy])).metadata.uid;
    started = Date.now();
    await kube.run(['-n', dev, 'delete', 'networkpolicy', policy]);
    await waitFor(`${dev} NetworkPolicy ${policy} to be recreated`, SELF_HEAL_LIMIT_S * 1000, async () => {
      const r = await kube.run(['-n', dev, 'get', 'networkpolicy', policy, '-o', 'json'], { allowFail: true });
      return r.code === 0 && JSON.parse(r.stdout).metadata.uid !== uid;
    }, 500);
    timing(`self-heal: NetworkPolicy ${policy} deleted by hand, recreated`, (Date.now() - started) / 1000);
    check(`${dev}: NetworkPolicy ${policy} recreated (new uid)`, true);
    await waitSettled([appName('staging'), appName('dev')], SELF_HEAL_LIMIT_S, Date.now());
  }]]);

  await section([['prune: remove the Ingress from staging\'s settings, synthesize and commit; Argo CD deletes it', async () => {
    const ns = namespaces.staging;
    check(`${ns}: Ingress todo exists before`, (await kube.run(['-n', ns, 'get', 'ingress', 'todo'], { allowFail: true })).code === 0);
    synthServed(withSealedLogins(TODO_ENVIRONMENTS, SEALED_DIR).map(e => e.name === 'staging' ? { ...e, settings: { ...e.settings, ingress: undefined } } : e));
    equal('dist/staging no longer has an Ingress', servedObjects('staging').filter(o => o.kind === 'Ingress').length, 0);
    const rev = await served.commitAll('staging: no Ingress');
    const started = Date.now();
    await apps.refresh([appName('staging')], 'normal');
    timing('commit (Ingress removed) to staging Synced and Healthy', await waitSettled([appName('staging')], COMMIT_LIMIT_S, started, rev));
    const gone = await kube.run(['-n', ns, 'get', 'ingress', 'todo'], { allowFail: true });
    check(`${ns}: Ingress todo was pruned`, gone.code !== 0 && /NotFound/.test(gone.stderr), gone.stdout);
  }]]);

  await section([
    ['bad commit: a manifest the API server rejects (Service port 70000) next to a valid new ConfigMap; the Application reports it, nothing else changes', async () => {
      const before = await liveFingerprint('dev');
      const otherRevisions = Object.fromEntries(await Promise.all(['staging', 'prod'].map(async e => [e, (await apps.get(appName(e))).status.sync.revision])));
      const bad = [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e2e-bad-commit-marker', namespace: namespaces.dev }, data: { note: 'valid, in the same commit as an invalid Service' } },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'e2e-bad-port', namespace: namespaces.dev },
          spec: { selector: { app: 'none' }, ports: [{ name: 'http', port: 70000, targetPort: 8080 }] },
        },
      ];
      fs.writeFileSync(path.join(repo, 'dist', 'dev', 'zz-e2e-bad.yaml'), bad.map(o => YAML.stringify(o)).join('---\n'));
      const rev = await served.commitAll('bad: a Service with port 70000');
      // A push webhook refreshes every Application of the repository.
      await apps.refresh(ENVS.map(appName), 'normal');
      let app: any;
      await waitFor('todo-dev to report the rejected manifest', COMMIT_LIMIT_S * 1000, async () => {
        app = await apps.get(appName('dev'));
        return JSON.stringify([app.status.operationState, app.status.conditions]).includes('70000');
      }, 1000).catch(e => { throw new Error(`${(e as Error).message}: ${describeApplication(app)}`); });
      // While it retries, the operation's message is about the retry; the API server's error is in the
      // result of the rejected resource.
      const rejected = (app.status.operationState?.syncResult?.resources ?? []).find((r: any) => r.kind === 'Service' && r.name === 'e2e-bad-port');
      const message = String(rejected?.message ?? app.status.operationState?.message ?? '');
      check(`todo-dev reports the failure: ${message.slice(0, 200)}`, /70000/.test(message) || (app.status.conditions ?? []).some((c: any) => /70000/.test(c.message)), describeApplication(app));
      equal('todo-dev is OutOfSync at the bad revision', [app.status.sync.status, app.status.sync.revision], ['OutOfSync', rev]);
      const marker = await kube.run(['-n', namespaces.dev, 'get', 'configmap', 'e2e-bad-commit-marker'], { allowFail: true });
      // Argo CD's dry run is client-side, so only the real apply meets the API server's validation, and a
      // sync is not all-or-nothing: the valid objects of the same commit and wave are applied.
      check('the valid ConfigMap of the same commit was applied anyway (client-side dry run: a sync is not atomic)', marker.code === 0, marker.stderr);
      const after = await liveFingerprint('dev');
      const changed = Object.keys(before).filter(k => before[k] !== after[k]);
      equal('every object of dev is unchanged (generation, spec, data, labels)', changed, []);
      const others = ['staging', 'prod'].map(appName);
      const moved = await waitSettled(others, COMMIT_LIMIT_S, Date.now(), rev).then(() => '', e => (e as Error).message);
      check(`${others.join(' and ')} (their paths unchanged) moved from ${Object.values(otherRevisions).map(r => String(r).slice(0, 8)).join(', ')} `
        + 'to the new commit, still Synced and Healthy', moved === '', moved);
    }],
    [`recovery: the next good commit (the bad file removed) brings dev back to Synced and Healthy within ${RECOVERY_LIMIT_S}s`, async () => {
      fs.rmSync(path.join(repo, 'dist', 'dev', 'zz-e2e-bad.yaml'));
      const rev = await served.commitAll('fix: remove the bad Service');
      const started = Date.now();
      await apps.refresh([appName('dev')], 'normal');
      timing('good commit after the bad one to dev Synced and Healthy (includes the failed sync\'s retry backoff)',
        await waitSettled([appName('dev')], RECOVERY_LIMIT_S, started, rev));
      const marker = await kube.run(['-n', namespaces.dev, 'get', 'configmap', 'e2e-bad-commit-marker'], { allowFail: true });
      check('the bad commit left nothing behind (its ConfigMap pruned, its Service never created)', marker.code !== 0
        && (await kube.run(['-n', namespaces.dev, 'get', 'service', 'e2e-bad-port'], { allowFail: true })).code !== 0);
      const app = await apps.get(appName('dev'));
      equal('todo-dev: 0 resources OutOfSync', (app.status.resources ?? []).filter((r: any) => r.status !== 'Synced').length, 0);
    }],
  ]);

  await section([
    ['a SealedSecret the controller cannot open (staging\'s login under another name: strict scope) committed by hand: Argo CD shows it Degraded with the controller\'s reason; no Secret appears; removed, staging is Healthy again', async () => {
      const login = distObjects('staging', path.join(repo, 'dist')).find(o => o.kind === 'SealedSecret' && o.metadata.name === 'todo-db-credentials')!;
      const foreign = {
        apiVersion: login.apiVersion,
        kind: 'SealedSecret',
        metadata: { name: 'e2e-foreign', namespace: namespaces.staging },
        spec: { ...login.spec, template: { ...login.spec.template, metadata: { ...login.spec.template.metadata, name: 'e2e-foreign', namespace: namespaces.staging } } },
      };
      const file = path.join(repo, 'dist', 'staging', 'zz-e2e-foreign.yaml');
      fs.writeFileSync(file, YAML.stringify(foreign));
      const rev = await served.commitAll('staging: a sealed file copied by hand under another name');
      await apps.refresh([appName('staging')], 'normal');
      let resource: any;
      await waitFor('Argo CD to show e2e-foreign Degraded', COMMIT_LIMIT_S * 1000, async () => {
        const app = await apps.get(appName('staging'));
        resource = (app.status.resources ?? []).find((r: any) => r.kind === 'SealedSecret' && r.name === 'e2e-foreign');
        return app.status.sync.revision === rev && resource?.health?.status === 'Degraded';
      }, 1000).catch(e => { throw new Error(`${(e as Error).message}: ${JSON.stringify(resource)}`); });
      check(`todo-staging shows the SealedSecret Degraded: ${resource.health.message}`, /no key could decrypt/.test(String(resource.health.message)), JSON.stringify(resource));
      const secret = await kube.run(['-n', namespaces.staging, 'get', 'secret', 'e2e-foreign'], { allowFail: true });
      check('no Secret e2e-foreign was made', secret.code !== 0 && /NotFound/.test(secret.stderr), secret.stdout);
      fs.rmSync(file);
      const fixed = await served.commitAll('staging: remove the copied sealed file');
      const started = Date.now();
      await apps.refresh([appName('staging')], 'normal');
      timing('commit (copied sealed file removed) to staging Synced and Healthy', await waitSettled([appName('staging')], COMMIT_LIMIT_S, started, fixed));
    }],
  ]);

  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
