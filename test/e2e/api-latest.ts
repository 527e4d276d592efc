/**
 * End-to-end test of the synthesized manifests against the NEWEST Kubernetes
 * minor that builds here (test/tools/kube-latest: the control plane, see its
 * go.mod), run by the cluster program without nodes (test/tools/cluster/ up --nodes 0).
 * Every environment is applied the way Argo CD applies it (server-side, field
 * manager argocd-controller, namespace from the Application's
 * managedNamespaceMetadata, PodSecurity "restricted"), must apply without a
 * single warning and must then show an empty server-side diff; so must
 * dist/apps and dist/bootstrap (after the vendored Argo CD CRDs are installed).
 * The controller manager then creates the workloads' pods, which the newest
 * PodSecurity "restricted:latest" must admit (with no node they stay Pending),
 * and the diff must stay empty.
 * A positive control proves the (much older) kubectl still reports a real
 * change through `kubectl diff --server-side`.
 *
 *   npx ts-node test/e2e/api-latest.ts     # ~1-2 min with the tools cached;
 *                                          # the first build of kube-latest: ~7-15 min on 2 cores
 *
 * kubectl is the one of test/tools/kube (1.27): the suite checks it still works
 * against the newest server. The API server version it ran is printed
 * ("[api-latest] server version ...") and asserted to be the one of
 * test/tools/kube-latest/go.mod. The control plane runs in network namespaces of
 * its own (root) and lives in a temporary directory; it is stopped on exit, also
 * on failure and on SIGINT/SIGTERM. dist/ is only read. Ends with "N passed, N failed".
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ARGOCD_CRDS, ARGO_MANAGER, DIST, Kubectl, applyAsArgo, applyEnvironmentAsArgo, assertNoDiffAsArgo, checkPodsAdmitted,
  diffSummary, distObjects, installCrds, manifestFiles, refusedPods, startControlPlane, toolsCache,
} from './cluster-support';
import {
  ROOT, check, e2eMain, equal, installTools, isExecutable, progress, requireTools, run, section, skipSteps,
} from './harness';
import { applyPlatformAsArgo } from './sealed-secrets-support';

const ENVS = ['dev', 'staging', 'prod'];
const KUBE_LATEST_MOD = path.join(ROOT, 'test', 'tools', 'kube-latest', 'go.mod');
/** The components the suite checks the logs of for flags the newest version deprecates. */
const FLAG_CHECKED = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const STEPS = 10;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-api-latest-'));
let toolEnv: NodeJS.ProcessEnv = process.env;
let kube = new Kubectl(process.env);
const namespaces: Record<string, string> = {};

/** The k8s.io/kubernetes version test/tools/kube-latest/go.mod requires (what install.sh kube-latest builds). */
function latestVersion(): string {
  const m = /^require k8s\.io\/kubernetes (v\S+)$/m.exec(fs.readFileSync(KUBE_LATEST_MOD, 'utf-8'));
  if (!m) throw new Error(`no "require k8s.io/kubernetes vX.Y.Z" line in ${KUBE_LATEST_MOD}`);
  return m[1];
}

const appsFiles = () => [...manifestFiles(path.join(DIST, 'apps')), ...manifestFiles(path.join(DIST, 'bootstrap'))];

/** Lines of a component log that name a deprecated, removed or unknown flag. */
function flagComplaints(logFile: string): string[] {
  if (!fs.existsSync(logFile)) return [`${logFile} is missing`];
  return fs.readFileSync(logFile, 'utf-8').split('\n')
    .filter(l => /[Ff]lag --?\S+ has been deprecated|unknown flag|flag provided but not defined|will be removed/.test(l));
}

async function main(): Promise<void> {
  const version = latestVersion();
  const latestDir = path.join(toolsCache(), `kubernetes-${version}`);
  const planeDir = path.join(tmp, 'control-plane');

  const tools = await section([
    [`install/find tools: the control plane ${version} (install.sh kube-latest), kubectl 1.27 (kube), etcd (debs)`, async () => {
      const started = Date.now();
      toolEnv = await installTools(['kube', 'debs', 'kube-latest']);
      progress(`  install.sh took ${((Date.now() - started) / 1000).toFixed(0)}s`);
      await requireTools(toolEnv, ['kubectl', 'etcd', 'openssl', 'curl', 'diff']);
      for (const bin of FLAG_CHECKED) {
        const file = path.join(latestDir, bin);
        if (!check(`${file} is executable`, isExecutable(file))) continue;
        const v = (await run(file, ['--version'], { allowFail: true })).stdout.trim();
        equal(`${bin} --version`, v, `Kubernetes ${version}`);
      }
    }],
  ]);
  if (!tools) {
    skipSteps(Array.from({ length: STEPS - 1 }, (_, i) => `step ${i + 2}`), 'tools missing');
    return;
  }

  const up = await section([
    [`start a control plane without nodes from ${path.basename(latestDir)} (the cluster program, --nodes 0)`, async () => {
      kube = new Kubectl(await startControlPlane(planeDir, toolEnv, latestDir));
      const server = JSON.parse((await kube.run(['get', '--raw', '/version'])).stdout);
      progress(`[api-latest] server version ${server.gitVersion} (${server.goVersion}, ${server.platform})`);
      equal('GET /version: gitVersion is the kube-latest version', server.gitVersion, version);
      const client = JSON.parse((await kube.run(['version', '--client', '-o', 'json'])).stdout).clientVersion;
      progress(`[api-latest] kubectl ${client.gitVersion} (test/tools/kube)`);
      for (const c of FLAG_CHECKED) {
        const complaints = flagComplaints(path.join(planeDir, 'logs', `${c}.log`));
        check(`${c}.log names no deprecated/removed/unknown flag of the cluster program`, complaints.length === 0, complaints.join('\n'));
      }
    }],
  ]);
  if (!up) {
    skipSteps(['CRDs', ...ENVS, 'apps', 'workloads', 're-diff', 'positive control'], 'no control plane');
    return;
  }

  const crds = await section([
    [`install the Argo CD CRDs from ${path.relative(ROOT, ARGOCD_CRDS)} (server-side) and wait until Established`, async () => {
      const names = await installCrds(kube, ARGOCD_CRDS);
      check(`CRDs include applications.argoproj.io and appprojects.argoproj.io (${names.length})`,
        names.includes('applications.argoproj.io') && names.includes('appprojects.argoproj.io'));
      // The environments' SealedSecrets need the platform's CRD (Argo CD syncs dist/platform first, wave -1).
      await applyPlatformAsArgo(kube, DIST, { waitReady: false });
    }],
  ]);
  if (!crds) {
    skipSteps([...ENVS, 'apps', 'workloads', 're-diff', 'positive control'], 'no Argo CD CRDs');
    return;
  }

  for (const env of ENVS) {
    await section([[`${env}: namespace as Argo CD creates it, out-of-band Secret, apply dist/${env}/ as Argo CD (no warnings), then no diff`,
      () => applyEnvironmentAsArgo(kube, env, namespaces)]]);
  }

  await section([['apps: namespace argocd, apply dist/apps/ and dist/bootstrap/ (no warnings), then no diff', async () => {
    const created = await kube.run(['create', 'namespace', 'argocd'], { allowFail: true });
    check('namespace argocd created', created.code === 0, created.stderr);
    const objects = [...distObjects('apps'), ...distObjects('bootstrap')];
    equal('every object in dist/apps and dist/bootstrap goes to namespace argocd', [...new Set(objects.map(o => o.metadata.namespace))], ['argocd']);
    await applyAsArgo(kube, 'dist/apps + dist/bootstrap', appsFiles(), objects);
    await assertNoDiffAsArgo(kube, 'dist/apps + dist/bootstrap', appsFiles());
  }]]);

  await section([['workloads: the controller manager creates every Deployment\'s and StatefulSet\'s pods and a Job\'s from each CronJob; PodSecurity "restricted:latest" admits them all', async () => {
    for (const env of ENVS.filter(e => namespaces[e])) {
      const ns = namespaces[env];
      const objects = distObjects(env);
      await checkPodsAdmitted(kube, ns, objects, 120_000);
      const refused = await refusedPods(kube, ns);
      check(`${ns}: no refused pod creations (FailedCreate / "violates PodSecurity")`, refused.length === 0, refused.join('\n'));
    }
  }]]);

  await section([['after the controllers ran (pods, HPA, StatefulSet claims): still no diff for any environment or the apps', async () => {
    for (const env of ENVS.filter(e => namespaces[e])) await assertNoDiffAsArgo(kube, `dist/${env} after the controllers`, manifestFiles(path.join(DIST, env)));
    await assertNoDiffAsArgo(kube, 'dist/apps + dist/bootstrap after the controllers', appsFiles());
  }]]);

  await section([['positive control: a changed ConfigMap shows in kubectl diff --server-side (exit 1, the field), so the empty diffs above are meaningful', async () => {
    const env = 'dev';
    const cm = distObjects(env).find(o => o.kind === 'ConfigMap');
    if (!check(`dist/${env} has a ConfigMap`, !!cm)) return;
    const changed = { ...cm, data: { ...cm!.data, 'e2e-probe': 'changed' } };
    const file = path.join(tmp, 'changed-configmap.yaml');
    fs.writeFileSync(file, YAML.stringify(changed));
    const r = await kube.run(['diff', '--server-side', `--field-manager=${ARGO_MANAGER}`, '-f', file], { allowFail: true });
    equal('kubectl diff exits 1 (differences found)', r.code, 1);
    check('the diff shows the added key', /^\+\s+e2e-probe: changed$/m.test(r.stdout), `${r.stderr.trim()}\n${diffSummary(r.stdout)}`);
    check('nothing else changed in it', diffSummary(r.stdout).split('\n').filter(l => /^\s+[-+]/.test(l)).length === 1, diffSummary(r.stdout));
  }]]);
}

e2eMain({ steps: STEPS, tmp }, main);
