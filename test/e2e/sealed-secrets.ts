/**
 * End-to-end test of sealed Secrets on real nodes (two nodes of the cluster
 * program of test/tools/cluster/, as test/e2e/pods.ts): the Sealed Secrets controller v0.27.1, built here from
 * the Go module proxy, installed from the tree's platform part with the
 * CloudNativePG operator; credentials sealed by `npm run secrets` and opened
 * by it; no `kubectl create secret`. staging's database is a CloudNativePG
 * Cluster of two instances (one per node) whose login is the sealed Secret.
 *
 * - compatibility: values sealed by the library (Node's crypto) open with the
 *   real `kubeseal --recovery-unseal`, strict and namespace-wide; a strict
 *   value moved to another namespace does not;
 * - bootstrap from git alone: dist/platform applied as Argo CD does, the
 *   controller makes its key; `npm run secrets -- fetch-cert`, `seal` (username
 *   from stdin, password generated), `list`; the tree re-synthesized; staging
 *   applied as Argo CD does: the SealedSecret Synced, the Cluster initialized
 *   with the unsealed password (a TCP login with it works), the web tier
 *   connected to the primary, the service serves tasks;
 * - rotation: a new password sealed and the tree re-synthesized; applied, the
 *   operator sets it in Postgres (the Secret is labelled cnpg.io/reload) and
 *   the web pods roll: the new password logs in, the old one is refused, the
 *   rolled web pods are connected with it, the tasks are there;
 * - a sealed file copied to prod is refused at synth; a SealedSecret forced
 *   into another namespace is refused by the controller (Synced=False, which
 *   Argo CD shows Degraded) and no Secret appears;
 * - disaster recovery: the key backed up as the README says, the cluster
 *   destroyed, a fresh one started, the key restored, the same tree applied:
 *   everything unseals, the same password, nothing re-sealed.
 *
 *   sudo npx ts-node --transpile-only test/e2e/sealed-secrets.ts   # root; ~5-8 min with tools cached
 *
 * Prints "[e2e i/N] ..." and ends with "N passed, N failed".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { ARGO_MANAGER, K8sObject, Kubectl, applyEnvironmentAsArgo, distObjects } from './cluster-support';
import {
  ROOT, RunResult, check, e2eMain, equal, installTools, progress, recordTiming, requireTools, run, section, skipSteps, waitFor,
} from './harness';
import {
  NOT_PULLED, NodesCluster, buildTodoImage, checkWebOnCluster, clusterInstances, clusterStatus, prepullClusterPostgres, startNodesCluster,
  volumesOnEveryNode, waitClusterHealthy, withLocalImages, withPortForward,
} from './real-cluster-support';
import { makeBaseImage } from './registry-support';
import {
  applyPlatformAsArgo, backupKeys, controllerLog, npmSecrets, sealTodoSecrets, sealed, sealedFileHashes, secretData, waitSealedStatus,
} from './sealed-secrets-support';
import { ImageLock, ImageLockDocument, SealedSecretFile, SealingCertificate, SealingScope } from '../../src';
import { SEALED_SECRETS_KEY_LABEL, SEALED_SECRETS_NAMESPACE } from '../../src/sealed-secrets/controller';
import { CLUSTER_TOOLS } from '../tools/cluster/cluster';

const STEPS = 10;
const READY_LIMIT_S = 240;
const NS = 'todo-staging';
const SECRET = 'todo-db-credentials';
/** staging's CloudNativePG Cluster. */
const DATABASE = 'todo-db';
/** Its instances, each on a node of its own (required anti-affinity): as many nodes. */
const INSTANCES = 2;
/** The operator applies a rotated password within seconds of the Secret's change. */
const ROTATION_LIMIT_S = 60;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-sealed-'));
/** The sealed files and certificates `npm run secrets` writes for this test's clusters (SEALED_SECRETS_DIR). */
const SEALED_DIR = path.join(tmp, 'sealed-secrets');
const TREE = path.join(tmp, 'tree', 'dist');
const LOCK = path.join(tmp, 'tree', 'images.lock.json');
let toolEnv: NodeJS.ProcessEnv = process.env;
let cluster: NodesCluster;
let kube = new Kubectl(process.env);
let baseImage = '';
/** The cluster's nodes pulling CloudNativePG's Postgres image from the moment it is pushed (prepullClusterPostgres's). */
let postgresPulled = NOT_PULLED;
const timings: string[] = [];

const timing = (what: string, seconds: number) => recordTiming(timings, what, seconds);

/** Builds (cached) and pushes Postgres, its metrics exporter, the controller, the operator and its Postgres to the cluster's registry; writes the lock with them. */
async function pushImages(): Promise<void> {
  const lock: ImageLockDocument = JSON.parse(fs.readFileSync(fs.existsSync(LOCK) ? LOCK : path.join(ROOT, 'images.lock.json'), 'utf-8'));
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const local = await withLocalImages(lock, cluster.registry, toolEnv);
  ImageLock.write(LOCK, local);
  postgresPulled = prepullClusterPostgres(cluster, local);
}

/** `npm run build:image` with ko: the todo image into the cluster's registry, the tree synthesized with the sealed files of SEALED_DIR. */
async function buildTree(): Promise<void> {
  await buildTodoImage(cluster, toolEnv, { lock: LOCK, outdir: TREE, helmDir: path.join(tmp, 'tree', 'helm'), baseImage, sealedDir: SEALED_DIR });
}

/** Re-synthesizes the tree from the lock and SEALED_DIR (no image build). */
async function synthTree(outdir = TREE, allowFail = false) {
  return run('npm', ['run', '--silent', 'synth'], {
    env: { ...toolEnv, SEALED_SECRETS_DIR: SEALED_DIR, IMAGES_LOCK_FILE: LOCK, CDK8S_OUTDIR: outdir, HELM_OUTDIR: path.join(path.dirname(outdir), 'helm') }, allowFail,
  });
}

/** A cluster of {@link INSTANCES} nodes, an unbound local volume on each for the Cluster's instances. */
async function upCluster(name: string): Promise<void> {
  const started = Date.now();
  cluster = await startNodesCluster(path.join(tmp, name), toolEnv, INSTANCES);
  kube = cluster.kube;
  await volumesOnEveryNode(cluster, 'instance', '25Gi');
  timing(`cluster up (${name}, ${INSTANCES} nodes)`, (Date.now() - started) / 1000);
}

/**
 * psql over TCP to the primary's own address from inside its pod: password
 * authentication (scram-sha-256, CloudNativePG's rule for every host), unlike
 * the socket, which the operator's rules leave to the postgres user.
 */
async function tcpLogin(password: string) {
  const { primary } = await clusterStatus(kube, NS, DATABASE);
  const ip = (await clusterInstances(kube, NS, DATABASE)).find(p => p.name === primary)?.ip ?? '';
  return kube.run(['-n', NS, 'exec', primary, '-c', 'postgres', '--', 'env', `PGPASSWORD=${password}`,
    'psql', '-h', ip, '-U', 'todo', '-d', 'todo', '-AtX', '-c', 'select 1'], { allowFail: true });
}

/**
 * An HTTP request to staging's todo service through `kubectl port-forward`:
 * its NetworkPolicy admits only the ingress controller's namespace, and a
 * port-forward enters the pod's own network namespace, as an operator would.
 */
async function web(method: string, urlPath: string, body?: string): Promise<RunResult> {
  return withPortForward(kube, NS, 'service/todo', 80, port =>
    run('curl', ['-sS', '--max-time', '10', '-X', method, ...(body ? ['-d', body] : []), `http://127.0.0.1:${port}${urlPath}`], { allowFail: true }));
}

/** Waits for the Cluster healthy with its instances, then the web Deployment rolled out; returns the seconds since `since`. */
async function waitStagingReady(since: number): Promise<number> {
  await waitClusterHealthy(kube, NS, DATABASE, INSTANCES, READY_LIMIT_S);
  check(`${NS}: Cluster ${DATABASE} healthy, ${INSTANCES} instances ready`, true);
  const r = await kube.settle(NS, 'deployment/todo', READY_LIMIT_S);
  if (!check(`${NS} deployment/todo rolled out and Ready, replaced pods gone`, r.code === 0, r.stderr + (await kube.run(['-n', NS, 'get', 'pods,events'], { allowFail: true })).stdout.slice(-2500))) {
    throw new Error('deployment/todo not Ready');
  }
  return (Date.now() - since) / 1000;
}

/**
 * Applies dist/staging as Argo CD syncs it, by waves: the SealedSecret (wave -1) first, until the
 * controller reports it unsealed, then everything (the database wave 0, the service wave 1), so
 * a pod rolled by a re-sealed password never starts with the old one.
 */
async function applyStagingByWaves(): Promise<void> {
  const first = distObjects('staging', TREE).filter(o => o.metadata?.annotations?.['argocd.argoproj.io/sync-wave'] === '-1');
  equal('dist/staging: sync wave -1 holds the SealedSecret', first.map(o => `${o.kind}/${o.metadata.name}`), [`SealedSecret/${SECRET}`]);
  await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }), 'e2e');
  const r = await kube.apply(first.map(o => YAML.stringify(o)).join('---\n'), ARGO_MANAGER);
  check('wave -1 (the SealedSecret) applied', r.code === 0, r.stderr);
  await waitSealedStatus(kube, NS, SECRET, 'True');
  await applyEnvironmentAsArgo(kube, 'staging', {}, TREE);
}

/**
 * Applies staging by waves and waits for it; checks the controller made the login Secret, labelled
 * for the operator, and the web tier connected to the primary with it.
 */
async function deployStaging(): Promise<void> {
  timing('every node pulled the CloudNativePG Postgres image (beside the steps before)', await postgresPulled());
  const started = Date.now();
  await applyStagingByWaves();
  await waitSealedStatus(kube, NS, SECRET, 'True');
  const secret = (await kube.json(['-n', NS, 'get', 'secret', SECRET])).metadata;
  const owner = secret.ownerReferences?.[0];
  check(`Secret ${NS}/${SECRET} was made by the controller (owned by the SealedSecret)`, owner?.kind === 'SealedSecret' && owner?.name === SECRET, JSON.stringify(owner));
  equal(`Secret ${NS}/${SECRET} is labelled cnpg.io/reload (the operator applies its changes)`, secret.labels?.['cnpg.io/reload'], 'true');
  timing('staging: apply to every pod Ready', await waitStagingReady(started));
  await checkWebOnCluster(kube, NS, DATABASE, INSTANCES, SECRET);
}

async function main(): Promise<void> {
  let firstPassword = '';
  const ready = await section([
    ['install/find tools: the cluster program\'s, and Sealed Secrets v0.27.1 (controller, kubeseal) and the CloudNativePG manager v1.30.0 from the Go module proxy', async () => {
      toolEnv = await installTools([...CLUSTER_TOOLS, 'sealed-secrets', 'cloudnative-pg']);
      if (!(await requireTools(toolEnv, ['kubectl', 'ko', 'crane', 'kubeseal', 'openssl', 'curl']))) throw new Error('tools missing');
    }],
    ['compatibility: values sealed by the library open with the real kubeseal --recovery-unseal (strict, namespace-wide); a strict value in another namespace does not', async () => {
      const dir = path.join(tmp, 'compat');
      fs.mkdirSync(dir);
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:4096', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '30', '-subj', '/CN=sealed-secret'], { env: toolEnv });
      const certificate = SealingCertificate.fromFile(path.join(dir, 'cert.pem'));
      const fp = await run('bash', ['-c', `ssh-keygen -lf <(ssh-keygen -i -m PKCS8 -f <(openssl x509 -in ${dir}/cert.pem -pubkey -noout))`], { env: toolEnv, allowFail: true });
      if (fp.code === 0) equal('the fingerprint is ssh-keygen\'s SHA256 fingerprint of the key', certificate.fingerprint, fp.stdout.split(' ')[1]);
      const value = 'p@ss wörd\n"quoted" ü';
      const cases: Array<[string, SealingScope, string]> = [['n', SealingScope.STRICT, 'ns1'], ['m', SealingScope.NAMESPACE_WIDE, 'ns1']];
      for (const [name, scope, ns] of cases) {
        const file = path.join(dir, `${name}.yaml`);
        const encryptedData = { v: certificate.seal(Buffer.from(value), ns, name, scope) };
        SealedSecretFile.write(file, { name, namespace: ns, scope, sealedWith: certificate.fingerprint, encryptedData });
        const r = await run('kubeseal', ['--recovery-unseal', '--recovery-private-key', path.join(dir, 'key.pem'), '-o', 'json'], { env: toolEnv, input: fs.readFileSync(file, 'utf-8'), allowFail: true });
        const opened = r.code === 0 ? Buffer.from(JSON.parse(r.stdout).data.v, 'base64').toString('utf-8') : r.stderr;
        equal(`kubeseal --recovery-unseal opens the ${scope} value of ${ns}/${name} sealed by the library`, opened, value);
      }
      const moved = fs.readFileSync(path.join(dir, 'n.yaml'), 'utf-8').replace(/namespace: ns1/g, 'namespace: ns2');
      const r = await run('kubeseal', ['--recovery-unseal', '--recovery-private-key', path.join(dir, 'key.pem')], { env: toolEnv, input: moved, allowFail: true });
      check(`the strict value moved to namespace ns2 does not open: ${r.stderr.trim()}`, r.code !== 0 && /no key could decrypt/.test(r.stderr));
    }],
    [`cluster up (${INSTANCES} nodes); images built here and pushed to its registry: Postgres stand-in, the Sealed Secrets controller, the CloudNativePG operator and its Postgres (build.sh), the todo service (ko)`, async () => {
      await upCluster('cluster');
      await pushImages();
      baseImage = await makeBaseImage(tmp, cluster.registry, toolEnv);
    }],
  ]);
  if (!ready) {
    skipSteps(['bootstrap', 'staging', 'rotation', 'copied', 'forced', 'recovery', 'recovered'], 'the cluster or the images are not there');
    return;
  }

  const bootstrapped = await section([
    ['bootstrap from git: dist/platform applied as Argo CD does (the controller and the CloudNativePG operator Ready); the controller makes its key; npm run secrets -- fetch-cert, seal (stdin, --generate password), list; the tree re-synthesized', async () => {
      // The platform part first, from a tree synthesized with the local images (the sealed files come next).
      fs.mkdirSync(path.join(SEALED_DIR, 'staging'), { recursive: true });
      const platformTree = path.join(tmp, 'platform-tree', 'dist');
      const first = await run('npm', ['run', '--silent', 'synth'], {
        env: { ...toolEnv, IMAGES_LOCK_FILE: LOCK, CDK8S_OUTDIR: platformTree, HELM_OUTDIR: path.join(tmp, 'platform-tree', 'helm') }, allowFail: true,
      });
      check('npm run synth with the local lock', first.code === 0, first.stderr);
      const started = Date.now();
      await applyPlatformAsArgo(kube, platformTree);
      timing('dist/platform applied to the controller Ready', (Date.now() - started) / 1000);
      await waitFor('the controller\'s first key', 60_000, async () => (await kube.json(['-n', SEALED_SECRETS_NAMESPACE, 'get', 'secret', '-l', SEALED_SECRETS_KEY_LABEL])).items.length === 1, 1000);
      check('the controller made one key (a Secret labelled sealedsecrets.bitnami.com/sealed-secrets-key)', true);

      // The whole tree is synthesized, so prod's login and backup key are sealed for this cluster too; staging is the one applied.
      await sealTodoSecrets(kube, SEALED_DIR);
      const key = (await kube.json(['-n', SEALED_SECRETS_NAMESPACE, 'get', 'secret', '-l', SEALED_SECRETS_KEY_LABEL])).items[0] as K8sObject;
      const fetched = SealingCertificate.fromFile(path.join(SEALED_DIR, 'staging', 'certificate.pem'));
      equal('the fetched certificate is the one of the controller\'s key', fetched.fingerprint, SealingCertificate.fromPem(Buffer.from(key.data['tls.crt'], 'base64').toString()).fingerprint);
      const listed = await npmSecrets(['list', '--env', 'staging'], SEALED_DIR, kube.env);
      check(`npm run secrets -- list: the file matches the certificate (exit 0)\n${listed.stdout.trim()}`, listed.code === 0 && listed.stdout.includes(fetched.fingerprint) && !listed.stdout.includes('DOES NOT MATCH'));
      const values = Object.values(SealedSecretFile.inFolder(path.join(SEALED_DIR, 'staging'), SECRET).read().encryptedData);
      check('the sealed file holds no plaintext: no value is "todo", plain or base64', values.length === 2 && !values.some(v => v === 'todo' || Buffer.from(v, 'base64').toString() === 'todo'));

      await buildTree();
      const objects = distObjects('staging', TREE);
      check('dist/staging holds a SealedSecret and no Secret', objects.some(o => o.kind === 'SealedSecret' && o.metadata.name === SECRET) && !objects.some(o => o.kind === 'Secret'));
    }],
    ['staging from git alone: applied as Argo CD does (no kubectl create secret); the controller unseals; the Cluster (two instances, two nodes) is initialized with the unsealed password; the web tier connected with it; the service serves tasks', async () => {
      await deployStaging();
      const data = await secretData(kube, NS, SECRET);
      firstPassword = data.password;
      equal('the unsealed Secret: username todo, a 43-character generated password', [data.username, data.password?.length], ['todo', 43]);
      const login = await tcpLogin(firstPassword);
      check('Postgres accepts the unsealed password over TCP (scram-sha-256)', login.code === 0, login.stderr);
      const put = await web('PUT', '/tasks', JSON.stringify({ name: 'sealed' }));
      check(`the service stores a task: ${put.stdout.trim()}`, put.code === 0 && /"id"/.test(put.stdout), put.stderr);
      const list = await web('GET', '/tasks');
      check('and lists it', list.code === 0 && list.stdout.includes('"sealed"'), list.stdout + list.stderr);
    }],
  ]);
  if (!bootstrapped) {
    skipSteps(['rotation', 'copied', 'forced', 'recovery', 'recovered'], 'staging did not come up');
    return;
  }

  await section([
    ['rotation: a new password sealed and the tree re-synthesized; applied, the operator sets it in Postgres (cnpg.io/reload) and the web pods roll; the new password logs in, the old one is refused, the rolled web pods are connected, the tasks are there', async () => {
      const before = fs.readFileSync(path.join(TREE, 'staging', 'todo-staging.k8s.yaml'), 'utf-8');
      sealed('seal --key password --generate password (rotation)', await npmSecrets(['seal', '--env', 'staging', '--secret', SECRET, '--key', 'password', '--generate', 'password'], SEALED_DIR, kube.env));
      const s = await synthTree();
      check('npm run synth with the re-sealed file', s.code === 0, s.stderr);
      const revision = (o: string) => /acme\.io\/secrets-revision: (\S+)/.exec(o)?.[1];
      const after = fs.readFileSync(path.join(TREE, 'staging', 'todo-staging.k8s.yaml'), 'utf-8');
      check(`the pod templates' acme.io/secrets-revision changed (${revision(before)} -> ${revision(after)})`, revision(before) !== undefined && revision(before) !== revision(after));
      const started = Date.now();
      await applyStagingByWaves();
      const data = await secretData(kube, NS, SECRET);
      check('the Secret holds a new password', data.password !== firstPassword && data.password.length === 43);
      let fresh = await tcpLogin(data.password);
      await waitFor('Postgres to accept the new password', ROTATION_LIMIT_S * 1000, async () => (fresh = await tcpLogin(data.password)).code === 0, 1000).catch(() => undefined);
      check('Postgres accepts the new password (set by the operator\'s instance manager: the Secret\'s change, cnpg.io/reload)', fresh.code === 0, fresh.stderr);
      timing('rotation: apply to the new password accepted by Postgres', (Date.now() - started) / 1000);
      timing('rotation: apply to the web pods rolled and Ready', await waitStagingReady(started));
      await checkWebOnCluster(kube, NS, DATABASE, INSTANCES, SECRET);
      const stale = await tcpLogin(firstPassword);
      check(`and refuses the old one: ${stale.stderr.trim().split('\n').pop()}`, stale.code !== 0 && /password authentication failed/.test(stale.stderr));
      const list = await web('GET', '/tasks');
      check('the service (its pods rolled, new password) still lists the task', list.code === 0 && list.stdout.includes('"sealed"'), list.stdout + list.stderr);
      firstPassword = data.password;
    }],
    ['a sealed file copied into another environment is refused at synth, naming the construct and the namespace', async () => {
      const copyDir = path.join(tmp, 'copied');
      fs.cpSync(SEALED_DIR, copyDir, { recursive: true });
      fs.mkdirSync(path.join(copyDir, 'prod'), { recursive: true });
      fs.copyFileSync(path.join(copyDir, 'staging', 'certificate.pem'), path.join(copyDir, 'prod', 'certificate.pem'));
      fs.copyFileSync(path.join(copyDir, 'staging', `${SECRET}.yaml`), path.join(copyDir, 'prod', `${SECRET}.yaml`));
      const out = path.join(tmp, 'copied-tree', 'dist');
      const r = await run('npm', ['run', '--silent', 'synth'], {
        env: { ...toolEnv, SEALED_SECRETS_DIR: copyDir, IMAGES_LOCK_FILE: LOCK, CDK8S_OUTDIR: out, HELM_OUTDIR: path.join(tmp, 'copied-tree', 'helm') }, allowFail: true,
      });
      check(`npm run synth fails: ${r.stderr.trim().split('\n').pop()}`, r.code !== 0
        && /todo-prod\/todo-db\/SealedCredentials: .* is sealed for namespace "todo-staging", but is used in namespace "todo-prod"/.test(r.stderr), r.stderr);
      check('and writes nothing', !fs.existsSync(out));
    }],
    ['a SealedSecret forced into another namespace is refused by the controller (Synced=False: Degraded in Argo CD); no Secret appears', async () => {
      const manifest = YAML.parse(fs.readFileSync(path.join(SEALED_DIR, 'staging', `${SECRET}.yaml`), 'utf-8'));
      manifest.metadata.namespace = 'e2e-forced';
      manifest.spec.template.metadata.namespace = 'e2e-forced';
      await kube.run(['create', 'namespace', 'e2e-forced']);
      const applied = await kube.apply(YAML.stringify(manifest), 'e2e');
      check('the copied SealedSecret is accepted by the API server', applied.code === 0, applied.stderr);
      const message = await waitSealedStatus(kube, 'e2e-forced', SECRET, 'False');
      check(`the controller says why: ${message}`, /no key could decrypt secret/.test(message ?? ''));
      const secret = await kube.run(['-n', 'e2e-forced', 'get', 'secret', SECRET], { allowFail: true });
      check('no Secret was created in e2e-forced', secret.code !== 0);
    }],
  ]);

  let backup = '';
  let hashes: Record<string, string> = {};
  const recovered = await section([
    ['disaster recovery: the key backed up as the README says (it also opens the committed file with kubeseal --recovery-unseal); the cluster destroyed; a fresh one up', async () => {
      backup = await backupKeys(kube);
      fs.writeFileSync(path.join(tmp, 'sealed-secrets-keys.yaml'), backup, { mode: 0o600 });
      const r = await run('kubeseal', ['--recovery-unseal', '--recovery-private-key', path.join(tmp, 'sealed-secrets-keys.yaml'), '-o', 'json'], {
        env: toolEnv, input: fs.readFileSync(path.join(SEALED_DIR, 'staging', `${SECRET}.yaml`), 'utf-8'), allowFail: true,
      });
      const opened = r.code === 0 ? Buffer.from(JSON.parse(r.stdout).data.password, 'base64').toString() : r.stderr;
      equal('kubeseal --recovery-unseal with the backup opens the committed file: the password the cluster uses', opened, firstPassword);
      hashes = sealedFileHashes(SEALED_DIR);
      const down = await cluster.command(['down']);
      check('cluster down: the first cluster and its key are gone', down.code === 0 && !fs.existsSync(cluster.dir), down.stderr);
      await upCluster('cluster-2');
      await pushImages();
      baseImage = await makeBaseImage(tmp, cluster.registry, toolEnv);
      // The same images in the new registry: the tree is synthesized again with its address.
      await buildTree();
    }],
    ['the key restored, the platform and staging applied from the same sealed files: everything unseals, the Cluster is initialized with the same password, the service serves', async () => {
      await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SEALED_SECRETS_NAMESPACE } }), 'e2e');
      const restored = await kube.run(['apply', '-f', path.join(tmp, 'sealed-secrets-keys.yaml')], { allowFail: true });
      check('kubectl apply -f sealed-secrets-keys.yaml (the backup) restores the key', restored.code === 0, restored.stderr);
      const started = Date.now();
      await applyPlatformAsArgo(kube, TREE);
      const keys = (await kube.json(['-n', SEALED_SECRETS_NAMESPACE, 'get', 'secret', '-l', SEALED_SECRETS_KEY_LABEL])).items;
      equal('the controller uses the restored key and makes no new one', keys.length, 1);
      await deployStaging();
      timing('recovery: key restored to staging Ready', (Date.now() - started) / 1000);
      equal('the unsealed password is the one sealed before the disaster', (await secretData(kube, NS, SECRET)).password, firstPassword);
      const login = await tcpLogin(firstPassword);
      check('Postgres (a new, empty volume) was initialized with it', login.code === 0, login.stderr + (await controllerLog(kube)));
      const put = await web('PUT', '/tasks', JSON.stringify({ name: 'after recovery' }));
      check(`the service serves: ${put.stdout.trim()}`, put.code === 0 && /"id"/.test(put.stdout), put.stderr);
      equal('nothing was re-sealed: the sealed files are byte-identical', sealedFileHashes(SEALED_DIR), hashes);
    }],
  ]);
  if (!recovered) progress('  (recovery failed: see above)');

  progress('\nmeasured:');
  for (const t of timings) progress(`  ${t}`);
}

e2eMain({ steps: STEPS, tmp }, main);
