/**
 * What the end-to-end suites that need a Kubernetes cluster share
 * (test/e2e/cluster.ts, test/e2e/argocd.ts, test/e2e/tanka.ts, ...): a throw-away control plane
 * of the cluster program (test/tools/cluster/, without nodes), a kwok fake node that marks pods running,
 * PersistentVolumes pre-bound to the claims of a stack, kubectl helpers and
 * the reading of manifest directories as Argo CD reads them.
 *
 * Everything started here registers its own cleanup with the harness.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { apiGet } from './api-get';
import {
  ROOT, RunOptions, RunResult, check, equal, isExecutable, onCleanup, progress, refuseIfInterrupted, run, sleep, stopProcess, waitFor,
} from './harness';
import { outOfBandSecrets } from '../../src/gitops/out-of-band-secrets';
import { toolModuleVersion } from '../tools/cluster/cluster';

/** The cluster program (test/tools/cluster/main.ts), run by Node through test/tools/register-ts.js: `[...CLUSTER_PROGRAM, 'up', DIR]`. */
export const CLUSTER_PROGRAM = ['-r', path.join(ROOT, 'test', 'tools', 'register-ts.js'), path.join(ROOT, 'test', 'tools', 'cluster', 'main.ts')];
/** The Argo CD CRDs the project vendors (the version test/tools/kube/go.mod pins and install.sh argocd builds). */
export const ARGOCD_CRDS = path.join(ROOT, 'third_party', 'argo-cd-v3.6.1', 'crds');
/** The fake node kwok runs. */
export const KWOK_NODE = 'kwok-node-0';
/** The addresses kwok gives the pods of its fake node (they reach nothing unless a test routes them). */
export const KWOK_POD_CIDR = '10.244.0.0/16';

export type K8sObject = Record<string, any>;

export function readObjects(file: string): K8sObject[] {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8')).map(d => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter(Boolean);
}

/** The files Argo CD applies from a directory with recurse: false. */
export function manifestFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter(f => /\.(ya?ml|json)$/.test(f)).sort().map(f => path.join(dir, f));
}

export function keyOf(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

export function labelSelector(matchLabels: Record<string, string>): string {
  return Object.entries(matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** kubectl against one cluster (the KUBECONFIG in `env`). */
export class Kubectl {
  constructor(public readonly env: NodeJS.ProcessEnv) {}

  /** Runs kubectl; a plain `get ... -o json` is answered by the API server directly (see api-get.ts). */
  public async run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    if (options.input === undefined) {
      refuseIfInterrupted('kubectl');
      const answered = await apiGet(this.env.KUBECONFIG, args);
      if (answered) {
        if (answered.code !== 0 && !options.allowFail) throw new Error(`kubectl ${args.slice(0, 3).join(' ')} exited 1:\n${answered.stderr.trim()}`);
        return answered;
      }
    }
    return run('kubectl', args, { env: this.env, ...options });
  }

  public async json(args: string[]): Promise<any> {
    return JSON.parse((await this.run([...args, '-o', 'json'])).stdout);
  }

  /** Applies YAML from a string, server-side, and returns the result (kubectl's warnings are on stderr). */
  public apply(text: string, manager: string): Promise<RunResult> {
    return this.run(['apply', '--server-side', `--field-manager=${manager}`, '-f', '-'], { input: text, allowFail: true });
  }

  public async podsOf(ns: string, selector: Record<string, string>): Promise<any[]> {
    return (await this.json(['-n', ns, 'get', 'pods', '-l', labelSelector(selector)])).items;
  }

  /**
   * Waits until a Deployment or StatefulSet (`deployment/todo`) has rolled out and its replaced
   * pods are gone. `rollout status` returns while old pods are still terminating, and
   * `port-forward service/...` may pick one of them (it prefers older pods): a request made
   * right after a rollout would then reach the old version.
   */
  public async settle(ns: string, workload: string, timeoutS: number): Promise<RunResult> {
    const deadline = Date.now() + timeoutS * 1000;
    const rolled = await this.run(['-n', ns, 'rollout', 'status', workload, `--timeout=${timeoutS}s`], { allowFail: true });
    if (rolled.code !== 0) return rolled;
    const selector = (await this.json(['-n', ns, 'get', workload])).spec.selector.matchLabels;
    const leaving = (await this.podsOf(ns, selector)).filter(p => p.metadata.deletionTimestamp).map(p => `pod/${p.metadata.name}`);
    if (!leaving.length) return rolled;
    const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    return this.run(['-n', ns, 'wait', '--for=delete', ...leaving, `--timeout=${left}s`], { allowFail: true });
  }
}

export function toolsCache(): string {
  return process.env.TODO_GITOPS_TOOLS_CACHE
    ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'todo-gitops', 'tools');
}

export async function goBinary(toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const found = await run('bash', ['-c', 'command -v go'], { env: toolEnv, allowFail: true });
  if (found.code === 0) return found.stdout.trim();
  if (isExecutable('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('go is not on PATH');
}

/**
 * Starts a control plane without nodes (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) in `dir` with the cluster program (`up DIR --nodes 0`: in a network namespace
 * of its own, the API server at <net>.2:6443 from the host; root), torn down by a cleanup, also
 * when it fails half-way; returns `toolEnv` with its KUBECONFIG. Its Kubernetes is the cluster
 * program's (install.sh kube, test/tools/kube/go.mod).
 */
export async function startControlPlane(dir: string, toolEnv: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const program = (args: string[], allowFail = false) => run(process.execPath, [...CLUSTER_PROGRAM, ...args], { env: toolEnv, allowFail, echo: '    | ' });
  onCleanup('stop the control plane', async () => {
    const r = await program(['down', dir], true);
    if (r.code !== 0) progress(`  cluster down exited ${r.code}`);
  });
  const r = await program(['up', dir, '--nodes', '0']);
  const m = /^export KUBECONFIG=(\S+)$/m.exec(r.stdout);
  if (!m) throw new Error(`cluster up printed no KUBECONFIG line: ${r.stdout}`);
  const kubeEnv: NodeJS.ProcessEnv = { ...toolEnv, KUBECONFIG: m[1] };
  delete kubeEnv.KUBECTL_EXTERNAL_DIFF;
  const version = JSON.parse((await new Kubectl(kubeEnv).run(['version', '-o', 'json'])).stdout).serverVersion?.gitVersion;
  check(`API server answers (${version})`, !!version);
  return kubeEnv;
}

/**
 * The Stage objects kwok needs to run fake nodes and pods: the node and pod
 * stages kwok ships in its module (kustomize/stage/...), for the kwok version
 * install.sh builds (test/tools/kube/go.mod pins it), from the Go module cache.
 */
export async function kwokStages(tmp: string, toolEnv: NodeJS.ProcessEnv): Promise<string> {
  const version = toolModuleVersion('sigs.k8s.io/kwok');
  const r = await run(await goBinary(toolEnv), ['mod', 'download', '-json', `sigs.k8s.io/kwok@${version}`],
    { cwd: tmp, env: { ...toolEnv, GOFLAGS: '-buildvcs=false' } });
  const dir = JSON.parse(r.stdout).Dir as string;
  const stages = ['node/fast/node-initialize.yaml', 'node/heartbeat/node-heartbeat.yaml',
    'pod/fast/pod-ready.yaml', 'pod/fast/pod-complete.yaml', 'pod/fast/pod-delete.yaml'];
  return stages.map(s => {
    const text = fs.readFileSync(path.join(dir, 'kustomize', 'stage', s), 'utf-8');
    if (!/^kind: Stage$/m.test(text)) throw new Error(`${s} of kwok ${version} is not a Stage`);
    return `---\n${text}`;
  }).join('\n');
}

/**
 * The lines of kwok's log (kept in `tmp` by {@link startKwok}) where a watch of its ended because the
 * API server could not serve it as a watch-list stream: each made kwok see pods late (see the
 * cluster program's WatchList gate).
 */
export function kwokWatchListErrors(tmp: string): string[] {
  return fs.readFileSync(path.join(tmp, 'kwok.log'), 'utf-8').split('\n').filter(l => l.includes('a watch stream was requested'));
}

/**
 * Starts kwok (stopped by a cleanup) managing only nodes annotated
 * kwok.x-k8s.io/node=fake, creates the Node {@link KWOK_NODE} and waits until
 * it is Ready. Throws with kwok's log tail if it does not get there.
 */
export async function startKwok(tmp: string, kube: Kubectl, toolEnv: NodeJS.ProcessEnv): Promise<void> {
  const config = path.join(tmp, 'kwok-stages.yaml');
  fs.writeFileSync(config, await kwokStages(tmp, toolEnv));
  const logFile = path.join(tmp, 'kwok.log');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn('kwok', ['--kubeconfig', kube.env.KUBECONFIG!, '--config', config,
    '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--cidr=${KWOK_POD_CIDR}`, '--node-ip=127.0.0.1'], { env: kube.env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  onCleanup('stop kwok', async () => { await stopProcess(child, 5000); });
  const logTail = () => fs.readFileSync(logFile, 'utf-8').trim().split('\n').slice(-5).join('\n');
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: KWOK_NODE,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': KWOK_NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'type': 'kwok' },
    },
    // The containers request ephemeral-storage; kwok's default capacity has none.
    status: {
      capacity: { 'cpu': '32', 'memory': '256Gi', 'pods': '110', 'ephemeral-storage': '1Ti' },
      allocatable: { 'cpu': '32', 'memory': '256Gi', 'pods': '110', 'ephemeral-storage': '1Ti' },
    },
  };
  const created = await kube.run(['create', '-f', '-'], { input: JSON.stringify(node), allowFail: true });
  check(`Node ${KWOK_NODE} created`, created.code === 0, created.stderr);
  try {
    await waitFor(`Node ${KWOK_NODE} to be Ready`, 60_000, async () => {
      if (child.exitCode !== null) throw new Error(`kwok exited ${child.exitCode}: ${logTail()}`);
      const n = await kube.json(['get', 'node', KWOK_NODE]);
      return (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    }, 500);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nkwok log:\n${logTail()}`);
  }
  check(`Node ${KWOK_NODE} is Ready (kwok)`, true);
}

/**
 * PersistentVolumes pre-bound to every claim of a stack deployed to `ns`
 * (standalone PersistentVolumeClaims and the StatefulSets' claim templates),
 * so its pods can be scheduled. Never mounted: there is no kubelet.
 */
export function persistentVolumes(ns: string, objects: K8sObject[]): K8sObject[] {
  const claims: Array<{ name: string; spec: any }> = objects.filter(o => o.kind === 'PersistentVolumeClaim')
    .map(o => ({ name: o.metadata.name, spec: o.spec }));
  for (const sts of objects.filter(o => o.kind === 'StatefulSet')) {
    for (const t of sts.spec.volumeClaimTemplates ?? []) {
      for (let i = 0; i < (sts.spec.replicas ?? 1); i++) claims.push({ name: `${t.metadata.name}-${sts.metadata.name}-${i}`, spec: t.spec });
    }
  }
  return claims.map(c => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `e2e-${ns}-${c.name}` },
    spec: {
      capacity: { storage: c.spec.resources.requests.storage },
      accessModes: c.spec.accessModes,
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: `/nonexistent/e2e/${ns}/${c.name}` },
      claimRef: { namespace: ns, name: c.name },
    },
  }));
}

/** Installs the CRDs of `dir` server-side (some are over 256 KiB) and waits until they are Established. */
export async function installCrds(kube: Kubectl, dir: string): Promise<string[]> {
  const files = manifestFiles(dir);
  const names = files.flatMap(readObjects).filter(o => o.kind === 'CustomResourceDefinition').map(o => o.metadata.name as string);
  const r = await kube.run(['apply', '--server-side', ...files.flatMap(f => ['-f', f])], { allowFail: true });
  check(`${names.length} CRDs from ${path.relative(ROOT, dir)} applied without warnings`, r.code === 0 && r.stderr.trim() === '', r.stderr);
  await waitFor('the CRDs to be Established', 60_000, async () => {
    const established = await kube.run(['get', 'crd', ...names, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Established")].status}{"\\n"}{end}']);
    return established.stdout.split('\n').filter(l => l === 'True').length === names.length;
  }, 500);
  check('all CRDs Established', true);
  return names;
}

// ------------------------------------------- applying dist/ as Argo CD does ---
// (shared by the suites that apply dist/ as Argo CD does)

/** The synthesized manifests: dist/<env>, dist/apps, dist/bootstrap. */
export const DIST = path.join(ROOT, 'dist');
/** The field manager of Argo CD's server-side apply. */
export const ARGO_MANAGER = 'argocd-controller';

/** The objects of dist/<dir> (the files Argo CD applies, recurse: false), of the committed tree or of `root`. */
export function distObjects(dir: string, root = DIST): K8sObject[] {
  return manifestFiles(path.join(root, dir)).flatMap(readObjects);
}

/** `kubectl diff` output reduced to the changed lines, per object. */
export function diffSummary(out: string): string {
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    if (l.startsWith('diff ')) lines.push(`${path.basename(l.split(' ').pop() ?? '')}:`);
    else if (/^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)) lines.push(`  ${l}`);
  }
  return lines.slice(0, 40).join('\n');
}

/**
 * Asserts `kubectl diff --server-side` as Argo CD's field manager finds
 * nothing to change. A controller writing an object's status between
 * kubectl's read and its dry run shows as a diff of status alone, which is
 * gone on the next try: up to three tries, so a real drift still fails.
 */
export async function assertNoDiffAsArgo(kube: Kubectl, label: string, files: string[], expectedWarning?: RegExp): Promise<void> {
  const diff = () => kube.run(['diff', '--server-side', `--field-manager=${ARGO_MANAGER}`, ...files.flatMap(f => ['-f', f])], { allowFail: true });
  let r = await diff();
  for (let i = 0; i < 2 && r.code === 1 && unexpectedWarnings(r.stderr, expectedWarning) === ''; i++) {
    await sleep(2000);
    r = await diff();
  }
  const warnings = unexpectedWarnings(r.stderr, expectedWarning);
  check(`${label}: kubectl diff --server-side reports no changes (exit 0, empty output)`,
    r.code === 0 && r.stdout.trim() === '' && warnings === '',
    `exit ${r.code}${warnings ? `, stderr: ${warnings}` : ''}\n${diffSummary(r.stdout)}`);
}

/** kubectl's stderr without the lines of `expected` (a warning the caller knows about and reports itself). */
function unexpectedWarnings(stderr: string, expected: RegExp | undefined): string {
  return stderr.split('\n').filter(l => l.trim() !== '' && !(expected?.test(l))).join('\n');
}

/** Applies files as Argo CD does and asserts success without any warning but `expectedWarning`. */
export async function applyAsArgo(kube: Kubectl, label: string, files: string[], expected: K8sObject[], expectedWarning?: RegExp): Promise<void> {
  const r = await kube.run(['apply', '--server-side', `--field-manager=${ARGO_MANAGER}`, ...files.flatMap(f => ['-f', f])], { allowFail: true });
  check(`${label}: kubectl apply --server-side --field-manager=${ARGO_MANAGER} exits 0`, r.code === 0, r.stderr.trim());
  const warnings = unexpectedWarnings(r.stderr, expectedWarning);
  check(`${label}: no warnings (stderr empty)${expectedWarning ? ` but the expected ${expectedWarning}` : ''}`, warnings === '', warnings);
  const applied = r.stdout.split('\n').filter(l => / serverside-applied$/.test(l)).length;
  equal(`${label}: every object was applied`, applied, expected.length);
}

/** What an environment's apply expects beyond git. */
export interface EnvironmentApplyOptions {
  /** The out-of-band Secrets the caller provides, with their data (an object store's access key). */
  readonly secrets?: Record<string, Record<string, string>>;
  /** A warning kubectl prints for this tree that the caller knows about (a deprecation upstream announced). */
  readonly expectedWarning?: RegExp;
}

/**
 * Applies dist/<env> as Argo CD would sync its Application (from dist/apps): the
 * namespace from managedNamespaceMetadata (PodSecurity "restricted"), the Secrets
 * the manifests reference but git does not hold (created with kubectl, as the
 * README says; a database login unless `options.secrets` has them), then the
 * files server-side without warnings, then no diff.
 * Records the environment's namespace in `namespaces[env]` as soon as it is known.
 * `root` is the tree to apply: the committed dist/ unless a test synthesized its own.
 */
export async function applyEnvironmentAsArgo(
  kube: Kubectl, env: string, namespaces: Record<string, string>, root = DIST, options: EnvironmentApplyOptions = {},
): Promise<void> {
  const secrets = options.secrets ?? {};
  const apps = distObjects('apps', root).filter(o => o.kind === 'Application');
  const app = apps.find(a => a.spec?.source?.path === `dist/${env}`);
  if (!check(`an Application in dist/apps syncs dist/${env}`, !!app)) return;
  const ns: string = app!.spec.destination.namespace;
  namespaces[env] = ns;
  const labels: Record<string, string> = app!.spec.syncPolicy?.managedNamespaceMetadata?.labels ?? {};
  const syncOptions: string[] = app!.spec.syncPolicy?.syncOptions ?? [];
  check(`${app!.metadata.name}: CreateNamespace=true and ServerSideApply=true`,
    syncOptions.includes('CreateNamespace=true') && syncOptions.includes('ServerSideApply=true'), JSON.stringify(syncOptions));
  equal(`${app!.metadata.name}: source.directory.recurse`, app!.spec.source.directory?.recurse ?? false, false);
  equal(`${app!.metadata.name}: managedNamespaceMetadata labels enforce/warn/audit restricted`,
    ['enforce', 'warn', 'audit'].map(m => labels[`pod-security.kubernetes.io/${m}`]), ['restricted', 'restricted', 'restricted']);

  const nsApplied = await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } }), ARGO_MANAGER);
  check(`namespace ${ns} created with the Application's labels`, nsApplied.code === 0 && nsApplied.stderr.trim() === '', nsApplied.stderr);
  const live = await kube.json(['get', 'namespace', ns]);
  equal(`namespace ${ns}: live PodSecurity enforce label`, live.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');

  const objects = distObjects(env, root);
  // Every Secret is in git (dev's plaintext one, staging's and prod's sealed: the controller makes
  // them), but for those the caller provides.
  equal(`dist/${env}: Secrets referenced but created outside git`, await createOutOfBandSecrets(kube, ns, objects, secrets), Object.keys(secrets).sort());

  const files = manifestFiles(path.join(root, env));
  await applyAsArgo(kube, `dist/${env}`, files, objects, options.expectedWarning);
  await assertNoDiffAsArgo(kube, `dist/${env}`, files, options.expectedWarning);
}

/**
 * Creates in `ns`, with kubectl as the README tells users, the Secrets that
 * `objects` use but git does not hold: those named in `provided` with their
 * data, any other as a database login (keys username and password); returns
 * their names.
 */
export async function createOutOfBandSecrets(
  kube: Kubectl, ns: string, objects: K8sObject[], provided: Record<string, Record<string, string>> = {},
): Promise<string[]> {
  const names = outOfBandSecrets(objects);
  if (names.length) await kube.run(['create', 'namespace', ns], { allowFail: true });
  for (const name of names) {
    const data = provided[name] ?? { username: 'todo', password: `e2e-${Math.random().toString(36).slice(2)}` };
    await kube.run(['-n', ns, 'create', 'secret', 'generic', name, ...Object.entries(data).map(([k, v]) => `--from-literal=${k}=${v}`)]);
    check(`${ns}: Secret ${name} (${Object.keys(data).join(', ')}) created with kubectl`, true);
  }
  return names;
}

/** What {@link checkPodsAdmitted} does after each workload's pods and each Job's pod were created. */
export interface AdmissionFollowUp {
  /** After a Deployment's or StatefulSet's pods, e.g. wait for a node to roll them out. */
  workload?(kind: 'deployment' | 'statefulset', name: string, what: string): Promise<void>;
  /** After the pod of the Job run from a CronJob. */
  job?(job: string): Promise<void>;
}

/**
 * Checks that the controllers create, and PodSecurity admits, the pods of
 * every Deployment and StatefulSet of `objects` in `ns` (their replicas, or
 * their HPA's minReplicas) and of a Job run now from each CronJob (a
 * CronJob's template is only admitted when it fires); a refusal is shown
 * with the events that say why.
 */
export async function checkPodsAdmitted(kube: Kubectl, ns: string, objects: K8sObject[], timeoutMs: number,
  followUp: AdmissionFollowUp = {}): Promise<void> {
  const hpas = objects.filter(o => o.kind === 'HorizontalPodAutoscaler');
  for (const w of objects.filter(o => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    const hpa = hpas.find(h => h.spec.scaleTargetRef.kind === w.kind && h.spec.scaleTargetRef.name === w.metadata.name);
    const expected: number = w.spec.replicas ?? hpa?.spec.minReplicas ?? 1;
    const what = `${ns} ${w.kind} ${w.metadata.name}`;
    let pods: any[] = [];
    await waitFor(`${what} to have ${expected} pod(s)`, timeoutMs, async () => {
      pods = await kube.podsOf(ns, w.spec.selector.matchLabels);
      return pods.length >= expected;
    }, 1000).catch(() => undefined);
    const created = check(`${what}: ${pods.length}/${expected} pod(s) created and admitted${hpa ? ' (replicas from its HPA)' : ''}`, pods.length >= expected,
      (await refusedPods(kube, ns)).join('\n'));
    if (created) await followUp.workload?.(w.kind === 'Deployment' ? 'deployment' : 'statefulset', w.metadata.name, what);
  }
  for (const cj of objects.filter(o => o.kind === 'CronJob')) {
    const job = `e2e-${cj.metadata.name}`;
    const r = await kube.run(['-n', ns, 'create', 'job', job, `--from=cronjob/${cj.metadata.name}`], { allowFail: true });
    check(`${ns}: kubectl create job --from=cronjob/${cj.metadata.name} without warnings`, r.code === 0 && r.stderr.trim() === '', r.stderr.trim());
    let created = false;
    await waitFor(`a pod of Job ${job}`, timeoutMs, async () => (created = (await kube.podsOf(ns, { 'job-name': job })).length > 0), 1000)
      .catch(() => undefined);
    if (check(`${ns}: Job ${job} (from CronJob ${cj.metadata.name}) created its pod`, created, (await refusedPods(kube, ns)).join('\n'))) {
      await followUp.job?.(job);
    }
  }
}

/** Pod creations the API server refused in a namespace: FailedCreate events and ReplicaFailure conditions. */
export async function refusedPods(kube: Kubectl, ns: string): Promise<string[]> {
  const events = (await kube.json(['-n', ns, 'get', 'events'])).items as any[];
  const refused = events.filter(e => e.reason === 'FailedCreate' || /violates PodSecurity/.test(e.message ?? ''))
    .map(e => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`);
  for (const rs of (await kube.json(['-n', ns, 'get', 'replicasets'])).items as any[]) {
    for (const c of rs.status?.conditions ?? []) {
      if (c.type === 'ReplicaFailure' && c.status === 'True') refused.push(`ReplicaSet/${rs.metadata.name}: ${c.reason}: ${c.message}`);
    }
  }
  return refused;
}
