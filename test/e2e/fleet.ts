/**
 * End-to-end test of a fleet: Argo CD's applicationset-controller, with the
 * repo-server and application-controller (v3.6.1, built by
 * test/tools/install.sh argocd), runs on a hub cluster and deploys the
 * environments to two more clusters registered as cluster Secrets.
 *
 * Three throw-away control planes (the cluster program without nodes, each in
 * its own network namespace; root), each with a kwok fake node (so the
 * Deployments and dev's StatefulSet become Healthy and the sync waves go on);
 * on staging-1 and prod-1 the real CloudNativePG operator as a process serving
 * the admission webhooks every `Cluster` passes (test/e2e/cnpg-support.ts), and,
 * as no node runs Postgres, each Cluster's healthy status written by the test:
 * a named, checked exception (real health: test/e2e/cloudnative-pg.ts):
 *   hub        Argo CD; later joins the fleet as dev
 *   staging-1  labelled acme.io/environment=staging
 *   prod-1     labelled acme.io/environment=prod
 * The served repository is this repository's HEAD re-synthesized through the
 * public library with `clusters: FleetClusters.fromLabel(...)`: dist/apps then
 * holds the AppProject and one ApplicationSet instead of the Applications;
 * the environments' directories are unchanged.
 *
 * - Bootstrap (kubectl apply -f dist/bootstrap on the hub) to exactly
 *   todo-staging-staging-1 and todo-prod-prod-1, Synced and Healthy, each
 *   environment's objects on its own cluster and nowhere else.
 * - A cluster joins without a commit: the hub registered with label dev gets
 *   todo-dev-hub.
 * - A cluster leaves: unlabelling staging-1's Secret deletes its Application
 *   and keeps what it deployed. Found by this test: Argo CD's
 *   preserveResourcesOnDeletion covers only deleting the ApplicationSet; with
 *   the resources finalizer on the generated Applications, unlabelling deleted
 *   staging's workloads. ArgoCdApplicationSet now leaves the finalizer out
 *   unless cascadeDelete is set.
 *
 *   npx ts-node --transpile-only test/e2e/fleet.ts      # ~4-6 min on 2 cores with the tools cached
 *
 * Everything else listens on 127.0.0.1 and lives in one temporary directory; every
 * process is stopped on exit, failure or SIGINT. Prints "[e2e i/N] ..." and
 * ends with "N passed, N failed".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ARGOCD_NS, Applications, ServedRepository, admitIngresses, argoCdBaseObjects, describeApplication, prepareEnvironment,
  settled, startArgoCd,
} from './argocd-support';
import {
  ARGOCD_CRDS, K8sObject, Kubectl, installCrds, manifestFiles, readObjects, startControlPlane, startKwok,
} from './cluster-support';
import { checkFakedClusterHealth, startHostCloudNativePg, writeHealthyClusterStatus } from './cnpg-support';
import {
  ROOT, check, e2eMain, equal, installTools, progress, recordTiming, requireTools, section, skipSteps, sleep, waitFor,
} from './harness';
import { checkSameButSealed, sealWithOwnKey, startHostSealedSecrets, withSealedLogins } from './sealed-secrets-support';
import { FleetClusters, GitOpsRepository, ImageLock, IN_CLUSTER } from '../../src';
import { TODO_ENVIRONMENTS, TODO_GIT, TodoSettings } from '../../todo/environments';
import { buildTodoStack } from '../../todo/todo-stack';

const STEPS = 9;
/** The cluster Secret label that puts a cluster into an environment. */
const FLEET_LABEL = 'acme.io/environment';
const ROOT_APP = 'todo-root';
/** Bootstrap to every generated Application Synced and Healthy. */
const BOOTSTRAP_LIMIT_S = 300;
/** A cluster labelled (or unlabelled) to its Application created and Synced/Healthy (or deleted). */
const MEMBERSHIP_LIMIT_S = 180;

interface Cluster {
  /** Its name in Argo CD (the cluster Secret's `name`). */
  readonly name: string;
  /** The environment it runs, once labelled. */
  readonly environment: string;
  kube: Kubectl;
  /** Its API server as Argo CD reaches it. */
  server: string;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-fleet-'));
const repo = path.join(tmp, 'todo-gitops');
/** staging's and prod's logins, sealed with the test's own controller key (the fork's sealed-secrets/). */
const SEALED_DIR = path.join(repo, 'sealed-secrets');
let sealingKey: K8sObject = {};
let toolEnv: NodeJS.ProcessEnv = process.env;
let served = new ServedRepository(repo, toolEnv);
const hub: Cluster = { name: 'hub', environment: 'dev', kube: new Kubectl(process.env), server: IN_CLUSTER };
const spokes: Cluster[] = [
  { name: 'staging-1', environment: 'staging', kube: new Kubectl(process.env), server: '' },
  { name: 'prod-1', environment: 'prod', kube: new Kubectl(process.env), server: '' },
];
let apps = new Applications(hub.kube);
const namespaces: Record<string, string> = Object.fromEntries(TODO_ENVIRONMENTS.map(e => [e.name, e.namespace]));
const timings: string[] = [];

/** The directory of the cluster program's control plane of `cluster` (`up DIR`). */
function planeDir(cluster: Cluster): string {
  return path.join(tmp, cluster.name, 'control-plane');
}

function appName(cluster: Cluster): string {
  return `todo-${cluster.environment}-${cluster.name}`;
}

function servedObjects(dir: string): K8sObject[] {
  return manifestFiles(path.join(repo, 'dist', dir)).flatMap(readObjects);
}

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

/** The cluster Secret that registers `cluster` in Argo CD, with the credentials of its kubeconfig. */
function clusterSecret(cluster: Cluster, labels: Record<string, string>): K8sObject {
  const config = YAML.parse(fs.readFileSync(cluster.kube.env.KUBECONFIG!, 'utf-8'));
  const tls = cluster.server === IN_CLUSTER ? {} : {
    caData: config.clusters[0].cluster['certificate-authority-data'],
    certData: config.users[0].user['client-certificate-data'],
    keyData: config.users[0].user['client-key-data'],
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `cluster-${cluster.name}`, namespace: ARGOCD_NS, labels: { 'argocd.argoproj.io/secret-type': 'cluster', ...labels } },
    stringData: { name: cluster.name, server: cluster.server, config: JSON.stringify({ tlsClientConfig: tls }) },
  };
}

/**
 * Waits until each Application has settled, playing every cluster's ingress controller meanwhile
 * and writing the healthy status of each CloudNativePG Cluster (checked as faked after the bootstrap).
 */
function waitSettled(names: string[], limitS: number, since: number): Promise<number> {
  return apps.waitSettled(names, limitS, since, undefined, async () => {
    for (const c of [hub, ...spokes]) {
      for (const ns of Object.values(namespaces)) {
        await admitIngresses(c.kube, ns);
        await writeHealthyClusterStatus(c.kube, ns);
      }
    }
  });
}

/** Whether `cluster` has the Deployment todo in `ns`. */
async function hasWebService(cluster: Cluster, ns: string): Promise<boolean> {
  return (await cluster.kube.run(['-n', ns, 'get', 'deployment', 'todo'], { allowFail: true })).code === 0;
}

async function main(): Promise<void> {
  const ready = await section([
    ['install/find tools (kube, kwok, argocd, the CloudNativePG manager, redis-server, git) with test/tools/install.sh', async () => {
      toolEnv = await installTools(['kube', 'debs', 'kwok', 'argocd', 'sealed-secrets', 'cloudnative-pg']);
      served = new ServedRepository(repo, toolEnv);
      const ok = await requireTools(toolEnv, ['kubectl', 'kube-apiserver', 'etcd', 'kwok', 'git', 'redis-server', 'manager',
        'argocd-application-controller', 'argocd-repo-server', 'argocd-applicationset-controller', 'git-verify-wrapper.sh']);
      if (!ok) throw new Error('tools missing');
    }],
    ['start three control planes (hub, staging-1, prod-1; the cluster program without nodes, each in its own network namespace), each with a kwok node', async () => {
      for (const cluster of [hub, ...spokes]) {
        const dir = path.join(tmp, cluster.name);
        fs.mkdirSync(dir);
        cluster.kube = new Kubectl(await startControlPlane(planeDir(cluster), toolEnv));
        await startKwok(dir, cluster.kube, toolEnv);
        if (cluster !== hub) cluster.server = YAML.parse(fs.readFileSync(cluster.kube.env.KUBECONFIG!, 'utf-8')).clusters[0].cluster.server;
      }
      apps = new Applications(hub.kube);
      check(`three API servers: ${spokes.map(s => `${s.name} ${s.server}`).join(', ')}`, new Set(spokes.map(s => s.server)).size === 2);
    }],
    ['serve the repository: HEAD re-synthesized through GitOpsRepository with clusters = FleetClusters.fromLabel, committed', async () => {
      await served.cloneFrom(ROOT, TODO_GIT.targetRevision);
      const environments = withSealedLogins(TODO_ENVIRONMENTS, SEALED_DIR);
      sealingKey = await sealWithOwnKey(path.join(tmp, 'sealing-key'), SEALED_DIR,
        new GitOpsRepository<TodoSettings>({ name: 'todo', repoUrl: served.url, environments, stack: buildTodoStack }), ['staging', 'prod']);
      new GitOpsRepository<TodoSettings>({
        name: 'todo',
        repoUrl: served.url,
        targetRevision: TODO_GIT.targetRevision,
        environments,
        stack: buildTodoStack,
        clusters: FleetClusters.fromLabel(FLEET_LABEL),
      }).synth({ outdir: path.join(repo, 'dist'), lock: ImageLock.fromFile(path.join(repo, 'images.lock.json')) });
      for (const env of Object.keys(namespaces)) checkSameButSealed(path.join(repo, 'dist'), path.join(ROOT, 'dist'), env);
      equal('dist/apps: the AppProject and one ApplicationSet', servedObjects('apps').map(o => `${o.kind}/${o.metadata.name}`), ['AppProject/todo', 'ApplicationSet/todo']);
      const rev = await served.commitAll('e2e: the todo fleet, synthesized with clusters from cluster Secret labels');
      await served.checkServed(TODO_GIT.targetRevision, rev);
    }],
    ['hub: Argo CD CRDs server-side (ApplicationSet is over 256 KiB), base objects; redis, repo-server, application-controller, applicationset-controller', async () => {
      const crds = await installCrds(hub.kube, ARGOCD_CRDS);
      check('the ApplicationSet CRD is installed', crds.includes('applicationsets.argoproj.io'), crds.join(', '));
      const r = await hub.kube.apply(argoCdBaseObjects(), 'e2e');
      check('argocd namespace, argocd-cm, argocd-secret and the default AppProject applied', r.code === 0, r.stderr);
      await startArgoCd(tmp, hub.kube, toolEnv, { applicationSets: true });
    }],
  ]);
  if (!ready) {
    skipSteps(['register the clusters', 'bootstrap', 'each environment on its cluster', 'a cluster joins', 'a cluster leaves'], 'the hub is not running Argo CD');
    return;
  }

  const bootstrapped = await section([
    ['register staging-1 and prod-1 as cluster Secrets labelled with their environment; on each, the README\'s before-bootstrap steps and the CloudNativePG operator', async () => {
      for (const spoke of spokes) {
        const r = await hub.kube.apply(YAML.stringify(clusterSecret(spoke, { [FLEET_LABEL]: spoke.environment })), 'e2e');
        check(`Secret cluster-${spoke.name} (server ${spoke.server}, ${FLEET_LABEL}=${spoke.environment}) applied`, r.code === 0, r.stderr);
        await prepareEnvironment(spoke.kube, namespaces[spoke.environment], servedObjects(spoke.environment));
        // What a fleet installs on each cluster before its environments: the Sealed Secrets controller
        // (a process here: the cluster's node runs no pods) with the fork's key, and its CRD and RBAC.
        await startHostSealedSecrets(tmp, `sealed-secrets-${spoke.name}`, spoke.kube, toolEnv, sealingKey, path.join(ROOT, 'dist'));
        // And the CloudNativePG operator of the same platform part (applied just now), for the Clusters' webhooks.
        await startHostCloudNativePg(tmp, `cloudnative-pg-${spoke.name}`, planeDir(spoke), spoke.kube, toolEnv);
      }
    }],
    [`bootstrap: kubectl apply -f dist/bootstrap/ on the hub; the ApplicationSet generates one Application per cluster, Synced and Healthy within ${BOOTSTRAP_LIMIT_S}s`, async () => {
      const started = Date.now();
      const r = await hub.kube.run(['apply', '-f', path.join(repo, 'dist', 'bootstrap')]);
      check(`kubectl apply -f dist/bootstrap/ created ${ROOT_APP}`, r.stdout.includes(`${ROOT_APP} created`), r.stdout);
      const expected = [ROOT_APP, ...spokes.map(appName)].sort();
      await waitFor(`the Applications ${expected.join(', ')}`, BOOTSTRAP_LIMIT_S * 1000, async () =>
        JSON.stringify(await apps.names()) === JSON.stringify(expected), 1000);
      equal('exactly one Application per labelled cluster (and the root)', await apps.names(), expected);
      timing('bootstrap to every cluster\'s Application Synced and Healthy', await waitSettled(spokes.map(appName), BOOTSTRAP_LIMIT_S, started));
      for (const spoke of spokes) {
        const app = await apps.get(appName(spoke));
        equal(`${appName(spoke)}: destination server and namespace`, [app.spec.destination.server, app.spec.destination.namespace], [spoke.server, namespaces[spoke.environment]]);
        equal(`${appName(spoke)}: source`, [app.spec.source.repoURL, app.spec.source.path], [served.url, `dist/${spoke.environment}`]);
        check(`${appName(spoke)}: ${describeApplication(app)}`, settled(app));
        // The Secret made by hand is in the AppProject's unmanagedResources: no OrphanedResourceWarning.
        equal(`${appName(spoke)}: no conditions`, (app.status.conditions ?? []).map((c: any) => `${c.type}: ${c.message}`), []);
        const owner = app.metadata.ownerReferences?.[0];
        equal(`${appName(spoke)}: owned by ApplicationSet todo`, [owner?.kind, owner?.name], ['ApplicationSet', 'todo']);
        equal(`${appName(spoke)}: Argo CD shows Cluster todo-db Healthy by its own check for postgresql.cnpg.io/Cluster`,
          (app.status.resources ?? []).filter((resource: any) => resource.kind === 'Cluster').map((resource: any) => `${resource.name} ${resource.health?.status}`), ['todo-db Healthy']);
        await checkFakedClusterHealth(spoke.kube, namespaces[spoke.environment], spoke.name);
      }
    }],
    ['each environment runs on its own cluster and nowhere else', async () => {
      for (const spoke of spokes) {
        const ns = namespaces[spoke.environment];
        const live = await spoke.kube.json(['-n', ns, 'get', 'deployment', 'todo']);
        const want = servedObjects(spoke.environment).find(o => o.kind === 'Deployment' && o.metadata.name === 'todo')!;
        equal(`${spoke.name}: Deployment todo in ${ns} runs the image dist/${spoke.environment} pins`,
          live.spec.template.spec.containers[0].image, want.spec.template.spec.containers[0].image);
        const labels = (await spoke.kube.json(['get', 'namespace', ns])).metadata.labels ?? {};
        equal(`${spoke.name}: namespace ${ns} enforces PodSecurity restricted`, labels['pod-security.kubernetes.io/enforce'], 'restricted');
        for (const other of [hub, ...spokes].filter(c => c !== spoke)) {
          check(`${other.name}: no Deployment todo in ${ns}`, !(await hasWebService(other, ns)));
        }
      }
    }],
  ]);
  if (!bootstrapped) {
    skipSteps(['a cluster joins', 'a cluster leaves'], 'bootstrap failed');
    return;
  }

  await section([
    ['a cluster joins without a commit: register the hub itself with label dev; todo-dev-hub is generated and syncs dev there', async () => {
      await prepareEnvironment(hub.kube, namespaces.dev, servedObjects('dev'));
      const started = Date.now();
      const r = await hub.kube.apply(YAML.stringify(clusterSecret(hub, { [FLEET_LABEL]: hub.environment })), 'e2e');
      check(`Secret cluster-hub (server ${IN_CLUSTER}, ${FLEET_LABEL}=dev) applied`, r.code === 0, r.stderr);
      await waitFor(`Application ${appName(hub)}`, MEMBERSHIP_LIMIT_S * 1000, async () => (await apps.get(appName(hub))) !== undefined, 1000);
      timing('cluster labelled to its Application Synced and Healthy', await waitSettled([appName(hub)], MEMBERSHIP_LIMIT_S, started));
      check(`hub: Deployment todo runs in ${namespaces.dev}`, await hasWebService(hub, namespaces.dev));
      equal('the Applications', await apps.names(), [ROOT_APP, ...[hub, ...spokes].map(appName)].sort());
    }],
    ['a cluster leaves: unlabel staging-1\'s Secret; its Application is deleted, its workloads stay (no resources finalizer)', async () => {
      const staging = spokes[0];
      const ns = namespaces[staging.environment];
      const uid = (await staging.kube.json(['-n', ns, 'get', 'deployment', 'todo'])).metadata.uid;
      const started = Date.now();
      await hub.kube.run(['-n', ARGOCD_NS, 'label', 'secret', `cluster-${staging.name}`, `${FLEET_LABEL}-`]);
      await waitFor(`Application ${appName(staging)} to be deleted`, MEMBERSHIP_LIMIT_S * 1000, async () => (await apps.get(appName(staging))) === undefined, 1000);
      timing('cluster unlabelled to its Application deleted', (Date.now() - started) / 1000);
      // With the resources finalizer the Application would vanish only after its objects; give a cascade time anyway.
      await sleep(5000);
      const after = await staging.kube.run(['-n', ns, 'get', 'deployment', 'todo', '-o', 'jsonpath={.metadata.uid}'], { allowFail: true });
      equal(`${staging.name}: Deployment todo in ${ns} is still there, the same object`, after.stdout, uid);
      const db = await staging.kube.run(['-n', ns, 'get', 'clusters.postgresql.cnpg.io', 'todo-db'], { allowFail: true });
      check(`${staging.name}: the database, Cluster todo-db in ${ns}, is still there`, db.code === 0, db.stderr);
      check(`${appName(spokes[1])} is untouched: ${describeApplication(await apps.get(appName(spokes[1])))}`, settled(await apps.get(appName(spokes[1]))));
    }],
  ]);
  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
