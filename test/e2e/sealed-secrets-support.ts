/**
 * Sealed Secrets for the end-to-end suites: applying the tree's platform part
 * (the controller) as Argo CD does, `npm run secrets` against a cluster, the
 * controller's key backup and restore as the README tells, and a SealedSecret's
 * status as the controller reports it (what Argo CD's health check reads).
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ARGO_MANAGER, K8sObject, Kubectl, applyAsArgo, assertNoDiffAsArgo, distObjects, manifestFiles } from './cluster-support';
import { ROOT, RunResult, check, freePort, onCleanup, run, stopProcess, waitFor } from './harness';
import {
  CredentialsSource, GitOpsEnvironment, GitOpsRepository, ObjectStoreCredentials, PostgresClusterBackupOptions, PostgresCredentials, SealedSecretFile,
} from '../../src';
import { CLOUDNATIVE_PG_NAMESPACE, CLOUDNATIVE_PG_OPERATOR } from '../../src/postgres/cloudnative-pg-operator';
import { SEALED_SECRETS_CONTROLLER, SEALED_SECRETS_KEY_LABEL, SEALED_SECRETS_NAMESPACE } from '../../src/sealed-secrets/controller';
import { CERTIFICATE_FILE } from '../../src/sealed-secrets/sealed-secret-file';
import { secretsCommand } from '../../src/sealed-secrets/secrets-command';

/**
 * Applies `<root>/platform` as its Argo CD Application would (namespace with
 * the Application's labels, server-side apply, no diff after), waits for the
 * SealedSecret CRD to be Established and, unless the cluster runs no pods
 * (`waitReady: false`), for the controller, and the CloudNativePG operator
 * when the platform part holds it, to be Ready.
 */
export async function applyPlatformAsArgo(kube: Kubectl, root: string, options: { waitReady?: boolean } = {}): Promise<void> {
  const app = distObjects('apps', root).find(o => o.kind === 'Application' && o.spec?.source?.path === 'dist/platform');
  if (!check('an Application in dist/apps syncs dist/platform, in sync wave -1 (before the environments)', app?.metadata?.annotations?.['argocd.argoproj.io/sync-wave'] === '-1')) {
    throw new Error('no platform Application');
  }
  const ns: string = app!.spec.destination.namespace;
  const labels = app!.spec.syncPolicy?.managedNamespaceMetadata?.labels ?? {};
  await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } }), ARGO_MANAGER);
  const files = manifestFiles(path.join(root, 'platform'));
  await applyAsArgo(kube, 'dist/platform', files, distObjects('platform', root));
  const crd = await kube.run(['wait', '--for=condition=Established', 'crd/sealedsecrets.bitnami.com', '--timeout=60s'], { allowFail: true });
  check('the SealedSecret CRD is Established', crd.code === 0, crd.stderr);
  if (options.waitReady === false) {
    await assertNoDiffAsArgo(kube, 'dist/platform', files);
    return;
  }
  const ready = await kube.run(['-n', ns, 'rollout', 'status', `deployment/${SEALED_SECRETS_CONTROLLER}`, '--timeout=180s'], { allowFail: true });
  if (!check(`the controller ${ns}/${SEALED_SECRETS_CONTROLLER} is Ready (restricted Pod Security)`, ready.code === 0, ready.stderr + (await controllerLog(kube)))) {
    throw new Error('controller not Ready');
  }
  // The Clusters of the environments applied next need the operator's webhooks serving.
  if (distObjects('platform', root).some(o => o.kind === 'Deployment' && o.metadata.name === CLOUDNATIVE_PG_OPERATOR)) {
    const operator = await kube.run(['-n', CLOUDNATIVE_PG_NAMESPACE, 'rollout', 'status', `deployment/${CLOUDNATIVE_PG_OPERATOR}`, '--timeout=180s'], { allowFail: true });
    if (!check(`the CloudNativePG operator ${CLOUDNATIVE_PG_NAMESPACE}/${CLOUDNATIVE_PG_OPERATOR} is Ready (restricted Pod Security, its webhooks serving)`, operator.code === 0, operator.stderr)) {
      throw new Error('operator not Ready');
    }
  }
  await assertNoDiffAsArgo(kube, 'dist/platform', files);
}

/** The controller's last log lines, for failure messages. */
export async function controllerLog(kube: Kubectl): Promise<string> {
  return (await kube.run(['-n', SEALED_SECRETS_NAMESPACE, 'logs', `deployment/${SEALED_SECRETS_CONTROLLER}`, '--tail=20'], { allowFail: true })).stdout;
}

/** `npm run secrets -- ARGS` with the sealed files in `sealedDir` and the cluster of `env` (stdin: `input`). */
export function npmSecrets(args: string[], sealedDir: string, env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return run('npm', ['run', '--silent', 'secrets', '--', ...args], { cwd: ROOT, env: { ...env, SEALED_SECRETS_DIR: sealedDir }, input, allowFail: true });
}

/**
 * The controller's keys as the README backs them up: every Secret labelled
 * sealedsecrets.bitnami.com/sealed-secrets-key, as a List without the
 * fields the API server owns (so it applies to a fresh cluster).
 */
export async function backupKeys(kube: Kubectl): Promise<string> {
  const list = await kube.json(['-n', SEALED_SECRETS_NAMESPACE, 'get', 'secret', '-l', SEALED_SECRETS_KEY_LABEL]);
  for (const item of list.items as K8sObject[]) {
    for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'ownerReferences']) delete item.metadata[f];
  }
  delete list.metadata;
  return YAML.stringify(list);
}

/** The controller's report on a SealedSecret: its Synced condition, for the current generation. */
export async function sealedStatus(kube: Kubectl, ns: string, name: string): Promise<{ synced?: string; message?: string; current: boolean }> {
  const r = await kube.run(['-n', ns, 'get', 'sealedsecret', name, '-o', 'json'], { allowFail: true });
  if (r.code !== 0) return { current: false };
  const o = JSON.parse(r.stdout);
  const c = (o.status?.conditions ?? []).find((x: any) => x.type === 'Synced');
  return { synced: c?.status, message: c?.message, current: o.status?.observedGeneration === o.metadata.generation };
}

/** Waits until the controller reports the SealedSecret Synced=`want` for its current generation. */
export async function waitSealedStatus(kube: Kubectl, ns: string, name: string, want: 'True' | 'False', timeoutMs = 60_000): Promise<string | undefined> {
  let last: { synced?: string; message?: string; current: boolean } = { current: false };
  try {
    await waitFor(`SealedSecret ${ns}/${name} Synced=${want}`, timeoutMs, async () => {
      last = await sealedStatus(kube, ns, name);
      return last.current && last.synced === want;
    }, 500);
  } catch (e) {
    check(`SealedSecret ${ns}/${name}: the controller reports Synced=${want}`, false, `${(e as Error).message}; last ${JSON.stringify(last)}\n${await controllerLog(kube)}`);
    return undefined;
  }
  check(`SealedSecret ${ns}/${name}: the controller reports Synced=${want} (status.conditions, what Argo CD's health check reads: ${want === 'True' ? 'Healthy' : 'Degraded'})${last.message ? `: ${last.message}` : ''}`, true);
  return last.message;
}

/** The decoded data of a Secret. */
export async function secretData(kube: Kubectl, ns: string, name: string): Promise<Record<string, string>> {
  const s = await kube.json(['-n', ns, 'get', 'secret', name]);
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf-8')]));
}

/** sha256 of every sealed file below `dir`, by relative path. */
export function sealedFileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const env of fs.readdirSync(dir).sort()) {
    for (const f of fs.readdirSync(path.join(dir, env)).sort()) {
      out[`${env}/${f}`] = createHash('sha256').update(fs.readFileSync(path.join(dir, env, f))).digest('hex');
    }
  }
  return out;
}

/** Asserts `npm run secrets` exited 0 and returns its stderr (the progress it printed). */
export function sealed(what: string, r: RunResult): string {
  check(`npm run secrets -- ${what}: exits 0 (${r.stderr.trim().split('\n').pop()})`, r.code === 0, r.stderr + r.stdout);
  return r.stderr;
}

/**
 * Seals the todo stack's database login for this cluster, as a user does:
 * for each environment `npm run secrets -- fetch-cert`, then the username from
 * standard input and a generated password, into `sealedDir` (SEALED_SECRETS_DIR).
 */
export async function sealDatabaseLogins(kube: Kubectl, sealedDir: string, envs: string[]): Promise<void> {
  for (const env of envs) {
    sealed(`fetch-cert --env ${env}`, await npmSecrets(['fetch-cert', '--env', env], sealedDir, kube.env));
    sealed(`seal --env ${env} --key username (stdin)`,
      await npmSecrets(['seal', '--env', env, '--secret', 'todo-db-credentials', '--key', 'username', '--type', 'kubernetes.io/basic-auth'], sealedDir, kube.env, 'todo\n'));
    sealed(`seal --env ${env} --key password --generate password`,
      await npmSecrets(['seal', '--env', env, '--secret', 'todo-db-credentials', '--key', 'password', '--generate', 'password'], sealedDir, kube.env));
  }
}

/**
 * Seals for this cluster every file the todo tree reads from `sealedDir` (SEALED_SECRETS_DIR):
 * staging's and prod's logins ({@link sealDatabaseLogins}) and prod's object store key
 * ({@link sealBackupKey}), for the placeholder store of the committed tree, which nothing here reaches.
 */
export async function sealTodoSecrets(kube: Kubectl, sealedDir: string): Promise<void> {
  await sealDatabaseLogins(kube, sealedDir, ['staging', 'prod']);
  await sealBackupKey(kube, sealedDir, 'prod', { ACCESS_KEY_ID: 'e2e-placeholder-key', ACCESS_SECRET_KEY: crypto.randomBytes(24).toString('base64url') });
}

/**
 * Seals an object store's access key for this cluster as todo/environments.ts
 * tells (`npm run secrets -- seal --env ENV --secret todo-db-backup --key
 * ACCESS_KEY_ID`, then `--key ACCESS_SECRET_KEY`, each value on standard input)
 * into `sealedDir`, which holds the environment's certificate already
 * ({@link sealDatabaseLogins} fetched it).
 */
export async function sealBackupKey(kube: Kubectl, sealedDir: string, env: string,
  key: { readonly ACCESS_KEY_ID: string; readonly ACCESS_SECRET_KEY: string }): Promise<void> {
  for (const [name, value] of Object.entries(key)) {
    sealed(`seal --env ${env} --secret todo-db-backup --key ${name} (stdin)`,
      await npmSecrets(['seal', '--env', env, '--secret', 'todo-db-backup', '--key', name], sealedDir, kube.env, `${value}\n`));
  }
}

/**
 * The environments with their sealed database login, and the sealed S3 key of a
 * `databaseBackup` if they have one, read from `sealedDir` (sealed for the test's
 * own controller) instead of the committed files (sealed for acme's clusters), as
 * a fork that sealed its own has them.
 */
export function withSealedLogins<S extends { credentials: PostgresCredentials; databaseBackup?: PostgresClusterBackupOptions }>(
  environments: ReadonlyArray<GitOpsEnvironment<S>>, sealedDir: string,
): Array<GitOpsEnvironment<S>> {
  return environments.map(e => {
    const folder = path.join(sealedDir, e.name);
    const backup = e.settings.databaseBackup;
    const backupKey = backup?.objectStore.credentials.sealedFile;
    return e.settings.credentials.source !== CredentialsSource.SEALED_SECRET ? e : {
      ...e,
      settings: {
        ...e.settings,
        credentials: PostgresCredentials.fromSealedSecret(SealedSecretFile.inFolder(folder, 'todo-db-credentials')),
        ...(backup && backupKey ? {
          databaseBackup: {
            ...backup,
            objectStore: {
              ...backup.objectStore,
              credentials: ObjectStoreCredentials.fromSealedSecret(SealedSecretFile.inFolder(folder, path.basename(backupKey.path, '.yaml')), {
                accessKeyIdKey: backup.objectStore.credentials.accessKeyIdKey,
                secretAccessKeyKey: backup.objectStore.credentials.secretAccessKeyKey,
              }),
            },
          },
        } : {}),
      },
    };
  });
}

/**
 * A controller key made here (as a team that brings its own key does), its
 * certificate written as each environment's `certificate.pem` in `sealedDir`,
 * and the todo login sealed with it for each environment by the library's
 * `secretsCommand` (what `npm run secrets` runs); every other sealed file the
 * environment had in `sealedDir` (prod's S3 key for its backups) sealed again
 * with the same keys, generated values. Returns the key as the Secret the
 * controller reads (label sealedsecrets.bitnami.com/sealed-secrets-key=active).
 */
export async function sealWithOwnKey(dir: string, sealedDir: string, repository: GitOpsRepository<any>, envs: string[]): Promise<K8sObject> {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:4096', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/O=sealed-secret/CN=sealed-secret']);
  for (const env of envs) {
    // The other secrets the fork has sealed (name -> keys), sealed again below with values of its own.
    const others = otherSealedSecrets(path.join(sealedDir, env), 'todo-db-credentials');
    // The files sealed for someone else's cluster go: the fork seals its own.
    fs.rmSync(path.join(sealedDir, env), { recursive: true, force: true });
    fs.mkdirSync(path.join(sealedDir, env), { recursive: true });
    fs.copyFileSync(cert, path.join(sealedDir, env, CERTIFICATE_FILE));
    const seals: Array<[string, readonly string[], string]> = [
      ['todo-db-credentials', ['--key', 'username', '--type', 'kubernetes.io/basic-auth'], 'todo'],
      ['todo-db-credentials', ['--key', 'password', '--generate', 'password'], ''],
      ...Object.entries(others).flatMap(([secret, keys]) => keys.map(k => [secret, ['--key', k, '--generate', 'password'], ''] as [string, readonly string[], string])),
    ];
    for (const [secret, argv, stdin] of seals) {
      const err: string[] = [];
      const code = secretsCommand(repository, ['seal', '--env', env, '--secret', secret, ...argv], {
        stdout: () => undefined,
        stderr: t => err.push(t),
        color: false,
        cwd: ROOT,
        env: { SEALED_SECRETS_DIR: sealedDir },
        stdin: () => Buffer.from(stdin),
      });
      check(`${env}: ${secret === 'todo-db-credentials' ? 'the login\'s' : `${secret}'s`} ${argv[1]} sealed with the test's key (${err.join('').trim()})`, code === 0);
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'sealed-secrets-key-e2e', namespace: SEALED_SECRETS_NAMESPACE, labels: { [SEALED_SECRETS_KEY_LABEL]: 'active' } },
    data: { 'tls.crt': fs.readFileSync(cert).toString('base64'), 'tls.key': fs.readFileSync(key).toString('base64') },
  };
}

/** The sealed files in `folder` but `except`'s: each Secret's name and the keys it seals. */
function otherSealedSecrets(folder: string, except: string): Record<string, string[]> {
  if (!fs.existsSync(folder)) return {};
  const out: Record<string, string[]> = {};
  for (const f of fs.readdirSync(folder).filter(n => n.endsWith('.yaml') && n !== `${except}.yaml`).sort()) {
    const file = YAML.parse(fs.readFileSync(path.join(folder, f), 'utf-8'));
    if (file?.kind === 'SealedSecret') out[file.metadata.name] = Object.keys(file.spec.encryptedData ?? {}).sort();
  }
  return out;
}

/**
 * The Sealed Secrets controller v0.27.1 as a process of this machine against
 * an API server without nodes (the Argo CD suites' clusters): the key Secret
 * and the platform objects of `<root>/platform` (CRD, ServiceAccount, RBAC;
 * what Argo CD then finds in sync) applied first, then the
 * controller started with its ServiceAccount's token where in-cluster clients
 * look for it, in a private mount namespace (a tmpfs over /run), listening on
 * loopback only. Stopped by a cleanup.
 */
export async function startHostSealedSecrets(
  tmp: string, name: string, kube: Kubectl, toolEnv: NodeJS.ProcessEnv, key: K8sObject, root: string,
): Promise<void> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  await kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SEALED_SECRETS_NAMESPACE } }), 'e2e');
  const restored = await kube.apply(YAML.stringify(key), 'e2e');
  check(`${name}: the controller's key restored in ${SEALED_SECRETS_NAMESPACE}`, restored.code === 0, restored.stderr);
  await applyPlatformAsArgo(kube, root, { waitReady: false });
  const token = await kube.run(['-n', SEALED_SECRETS_NAMESPACE, 'create', 'token', SEALED_SECRETS_CONTROLLER, '--duration=6h']);
  const config = YAML.parse(fs.readFileSync(kube.env.KUBECONFIG!, 'utf-8'));
  const cluster = config.clusters[0].cluster;
  const server = new URL(cluster.server);
  const account = path.join(dir, 'serviceaccount');
  fs.mkdirSync(account);
  fs.writeFileSync(path.join(account, 'token'), token.stdout.trim(), { mode: 0o600 });
  fs.writeFileSync(path.join(account, 'ca.crt'), Buffer.from(cluster['certificate-authority-data'], 'base64'));
  fs.writeFileSync(path.join(account, 'namespace'), SEALED_SECRETS_NAMESPACE);
  const [port, metrics] = [await freePort(), await freePort()];
  const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io && cp -r ${account} /run/secrets/kubernetes.io/serviceaccount && `
    + `exec controller --update-status --listen-addr=127.0.0.1:${port} --listen-metrics-addr=127.0.0.1:${metrics}`;
  const log = path.join(dir, 'controller.log');
  const out = fs.openSync(log, 'a');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script], {
    env: { ...toolEnv, KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port || '443', POD_NAMESPACE: SEALED_SECRETS_NAMESPACE },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  onCleanup(`stop the Sealed Secrets controller of ${name}`, async () => { await stopProcess(child, 10_000); });
  await waitFor(`${name}: the controller's /healthz on 127.0.0.1:${port}`, 60_000, async () => {
    if (child.exitCode !== null) throw new Error(`the controller exited ${child.exitCode}: ${fs.readFileSync(log, 'utf-8').slice(-1500)}`);
    const r = await run('curl', ['-sf', `http://127.0.0.1:${port}/healthz`], { allowFail: true });
    return r.code === 0;
  }, 500);
  check(`${name}: the Sealed Secrets controller runs (its ServiceAccount's token, the restored key)`, true);
}

/**
 * A manifest's text without what sealing with another key changes: the ciphertexts (of any key:
 * a sealed value is long base64 starting with "Ag"), the key fingerprint, the revision hashes.
 */
function withoutCiphertext(text: string): string {
  return text.replace(/^(\s+(?:password|username|acme\.io\/sealed-with|acme\.io\/secrets-revision)): .*$/gm, '$1: <sealed>')
    .replace(/^(\s+[A-Za-z0-9_.-]+): Ag[A-Za-z0-9+/=]{100,}$/gm, '$1: <sealed>');
}

/**
 * Checks that `<tree>/<env>` equals the committed `<committed>/<env>` byte for
 * byte, but for the sealed values of an environment whose logins the test
 * sealed with its own key.
 */
export function checkSameButSealed(tree: string, committed: string, env: string): void {
  const text = (root: string) => manifestFiles(path.join(root, env)).map(f => fs.readFileSync(f, 'utf-8'));
  const [mine, theirs] = [text(tree), text(committed)];
  const hasSealed = mine.join('').includes('kind: SealedSecret');
  const same = hasSealed
    ? mine.map(withoutCiphertext).join('') === theirs.map(withoutCiphertext).join('') && mine.join('') !== theirs.join('')
    : mine.join('') === theirs.join('');
  check(`dist/${env} synthesized here equals the committed dist/${env}${hasSealed ? ' but for its sealed values (sealed with the test\'s key)' : ', byte for byte'}`, same);
}
