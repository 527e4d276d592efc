/**
 * Sealed Secrets for the end-to-end suites: applying the tree's platform part
 * (the controller) as Argo CD does, `npm run seal` against a cluster, the
 * controller's key backup and restore as the README tells, and a SealedSecret's
 * status as the controller reports it (what Argo CD's health check reads).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ARGO_MANAGER, K8sObject, Kubectl, applyAsArgo, assertNoDiffAsArgo, distObjects, manifestFiles } from './cluster-support';
import { ROOT, RunResult, check, run, waitFor } from './harness';
import { SEALED_SECRETS_CONTROLLER, SEALED_SECRETS_KEY_LABEL, SEALED_SECRETS_NAMESPACE } from '../../src';

/**
 * Applies `<root>/platform` as its Argo CD Application would (namespace with
 * the Application's labels, server-side apply, no diff after), waits for the
 * SealedSecret CRD to be Established and, unless the cluster runs no pods
 * (`waitReady: false`), for the controller to be Ready.
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
  await assertNoDiffAsArgo(kube, 'dist/platform', files);
}

/** The controller's last log lines, for failure messages. */
export async function controllerLog(kube: Kubectl): Promise<string> {
  return (await kube.run(['-n', SEALED_SECRETS_NAMESPACE, 'logs', `deployment/${SEALED_SECRETS_CONTROLLER}`, '--tail=20'], { allowFail: true })).stdout;
}

/** `npm run seal -- ARGS` with the sealed files in `sealedDir` and the cluster of `env` (stdin: `input`). */
export function npmSeal(args: string[], sealedDir: string, env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return run('npm', ['run', '--silent', 'seal', '--', ...args], { cwd: ROOT, env: { ...env, SEALED_SECRETS_DIR: sealedDir }, input, allowFail: true });
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

/** Asserts `npm run seal` exited 0 and returns its stderr (the progress it printed). */
export function sealed(what: string, r: RunResult): string {
  check(`npm run seal -- ${what}: exits 0 (${r.stderr.trim().split('\n').pop()})`, r.code === 0, r.stderr + r.stdout);
  return r.stderr;
}

/**
 * Seals the todo stack's database login for this cluster, as a user does:
 * for each environment `npm run seal -- fetch-cert`, then the username from
 * standard input and a generated password, into `sealedDir` (SEALED_SECRETS_DIR).
 */
export async function sealDatabaseLogins(kube: Kubectl, sealedDir: string, envs: string[]): Promise<void> {
  for (const env of envs) {
    sealed(`fetch-cert --env ${env}`, await npmSeal(['fetch-cert', '--env', env], sealedDir, kube.env));
    sealed(`seal --env ${env} --key username (stdin)`,
      await npmSeal(['seal', '--env', env, '--secret', 'todo-db-credentials', '--key', 'username', '--type', 'kubernetes.io/basic-auth'], sealedDir, kube.env, 'todo\n'));
    sealed(`seal --env ${env} --key password --generate password`,
      await npmSeal(['seal', '--env', env, '--secret', 'todo-db-credentials', '--key', 'password', '--generate', 'password'], sealedDir, kube.env));
  }
}
