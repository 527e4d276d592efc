import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { BuildpacksBuildJob, BuildpacksBuildJobProps, ContainerImage, ValidationError } from '../../src';
import { digestOf } from '../support/fixtures';
import { restrictedViolations } from '../support/pod-security';
import { SchemaValidator } from '../support/schema';
import { container, only, synthChart } from '../support/synth';

const schema = new SchemaValidator();
const BUILDER = ContainerImage.fromDigest('ghcr.io/acme/cnb-builder', digestOf('builder'));
const GIT = ContainerImage.fromDigest('ghcr.io/acme/git', digestOf('git'));
const PROPS: BuildpacksBuildJobProps = {
  builder: BUILDER,
  gitImage: GIT,
  gitUrl: 'https://github.com/acme/todo-gitops.git',
  repository: 'ghcr.io/acme/todo',
  dockerConfigSecret: 'ghcr-push',
};
const job = (chart: Chart, props: Partial<BuildpacksBuildJobProps> = {}) => new BuildpacksBuildJob(chart, 'build-todo', { ...PROPS, ...props });
const initContainer = (pod: any, name: string) => pod.initContainers.find((c: any) => c.name === name);

describe('BuildpacksBuildJob defaults', () => {
  const objects = synthChart(chart => job(chart));
  const rendered = only(objects, 'Job', 'build-todo');
  const pod = rendered.spec.template.spec;
  const source = initContainer(pod, 'source');
  const creator = initContainer(pod, 'creator');
  const report = container(pod, 'report');

  test('snapshot', () => expect(objects).toMatchSnapshot());

  test('a Job and its ServiceAccount, schema-valid; no ConfigMap without a build environment', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Job/build-todo', 'ServiceAccount/build-todo']);
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('git fetches, then the creator builds, then the report container reads the digest', () => {
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['source', 'creator']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['report']);
    expect(source.image).toBe(`ghcr.io/acme/git@${digestOf('git')}`);
    expect(source.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(source.env).toEqual([
      { name: 'GIT_URL', value: 'https://github.com/acme/todo-gitops.git' },
      { name: 'GIT_REVISION', value: 'main' },
      { name: 'HOME', value: '/tmp' },
    ]);
    expect(creator.image).toBe(`ghcr.io/acme/cnb-builder@${digestOf('builder')}`);
    expect(report.image).toBe(creator.image);
  });

  test('the creator publishes to repository:tag with the cache beside it, Platform API 0.14, as the build user', () => {
    expect(creator.command).toEqual(['/cnb/lifecycle/creator']);
    expect(creator.args).toEqual([
      '-app', '/workspace', '-layers', '/layers', '-platform', '/platform', '-report', '/layers/report.toml',
      '-cache-image', 'ghcr.io/acme/todo:buildpacks-cache', '-log-level', 'info', '-no-color', 'ghcr.io/acme/todo:latest',
    ]);
    expect(creator.env).toEqual([
      { name: 'CNB_PLATFORM_API', value: '0.14' },
      { name: 'CNB_USER_ID', value: '65532' },
      { name: 'CNB_GROUP_ID', value: '65532' },
      { name: 'DOCKER_CONFIG', value: '/docker-config' },
    ]);
  });

  test('the app directory is the repository\'s app/, the checkout the git container made', () => {
    expect(creator.volumeMounts).toContainEqual({ name: 'source', mountPath: '/workspace', subPath: 'repo/app' });
    expect(source.volumeMounts).toContainEqual({ name: 'source', mountPath: '/source' });
    expect(pod.volumes).toContainEqual({ name: 'platform-env', emptyDir: {} });
  });

  test('push credentials come from the docker config Secret, read-only, readable by the build group', () => {
    expect(pod.volumes).toContainEqual({
      name: 'docker-config',
      secret: { secretName: 'ghcr-push', items: [{ key: '.dockerconfigjson', path: 'config.json' }], defaultMode: 0o440 },
    });
    expect(creator.volumeMounts).toContainEqual({ name: 'docker-config', mountPath: '/docker-config', readOnly: true });
    expect(source.volumeMounts.map((m: any) => m.name)).not.toContain('docker-config');
  });

  test('the digest and the commit are termination messages', () => {
    for (const c of [source, report]) expect([c.terminationMessagePath, c.terminationMessagePolicy]).toEqual(['/dev/termination-log', 'File']);
    expect(report.command.slice(0, 3)).toEqual(['awk', '-F', '"']);
    expect(report.command[4]).toBe('/layers/report.toml');
    expect(report.volumeMounts).toEqual([{ name: 'layers', mountPath: '/layers', readOnly: true }]);
  });

  test('a one-shot Job that cleans up after itself', () => {
    expect(rendered.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 86400 });
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  test('meets "restricted": non-root build user, nothing added, read-only root filesystems', () => {
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [source, creator, report]) {
      expect(c.securityContext).toEqual({
        runAsNonRoot: true,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
  });

  test('the build gets the resources; the helpers are small but share its disk', () => {
    expect(creator.resources.limits).toEqual({ 'cpu': '2', 'memory': '4Gi', 'ephemeral-storage': '4Gi' });
    expect(report.resources.requests).toEqual({ 'cpu': '50m', 'memory': '64Mi', 'ephemeral-storage': '4Gi' });
  });
});

test('options: revision, sub path, tag, cache tag, run image, build env, insecure registries, git credentials, user', () => {
  const objects = synthChart(chart => job(chart, {
    name: 'build',
    gitRevision: 'refs/tags/v1.2.0',
    contextSubPath: 'services/todo',
    tag: 'sha-abc',
    cacheTag: 'cache',
    runImage: ContainerImage.fromDigest('ghcr.io/acme/run', digestOf('run')),
    buildEnv: { GOPROXY: 'https://proxy.golang.org', BP_GO_VERSION: '1.26.1' },
    insecureRegistries: ['registry.build.svc:5000'],
    gitCredentialsSecret: 'git-login',
    userId: 1000,
    groupId: 1001,
    resources: { cpuRequest: '1', memoryRequest: '2Gi', cpuLimit: '2', memoryLimit: '3Gi', ephemeralStorage: '8Gi' },
    backoffLimit: 1,
  }));
  for (const o of objects) expect(schema.errors(o)).toEqual([]);
  const pod = only(objects, 'Job', 'build').spec.template.spec;
  const creator = initContainer(pod, 'creator');
  const source = initContainer(pod, 'source');
  expect(creator.args).toEqual([
    '-app', '/workspace', '-layers', '/layers', '-platform', '/platform', '-report', '/layers/report.toml',
    '-cache-image', 'ghcr.io/acme/todo:cache', '-run-image', `ghcr.io/acme/run@${digestOf('run')}`,
    '-insecure-registry', 'registry.build.svc:5000', '-log-level', 'info', '-no-color', 'ghcr.io/acme/todo:sha-abc',
  ]);
  expect(creator.volumeMounts).toContainEqual({ name: 'source', mountPath: '/workspace', subPath: 'repo/services/todo' });
  expect(creator.env).toContainEqual({ name: 'CNB_USER_ID', value: '1000' });
  expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1001, fsGroup: 1001 });
  expect(only(objects, 'ConfigMap', 'build-build-env').data).toEqual({ BP_GO_VERSION: '1.26.1', GOPROXY: 'https://proxy.golang.org' });
  expect(pod.volumes).toContainEqual({ name: 'platform-env', configMap: { name: 'build-build-env', defaultMode: 0o444 } });
  expect(creator.volumeMounts).toContainEqual({ name: 'platform-env', mountPath: '/platform/env', readOnly: true });
  expect(source.env).toContainEqual({ name: 'GIT_REVISION', value: 'refs/tags/v1.2.0' });
  expect(source.env).toContainEqual({ name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: 'git-login', key: 'password' } } });
  expect(creator.resources.limits['ephemeral-storage']).toBe('8Gi');
  expect(restrictedViolations(pod)).toEqual([]);
});

test('contextSubPath "." builds the whole checkout', () => {
  const objects = synthChart(chart => job(chart, { contextSubPath: '.' }));
  const creator = initContainer(only(objects, 'Job').spec.template.spec, 'creator');
  expect(creator.volumeMounts).toContainEqual({ name: 'source', mountPath: '/workspace', subPath: 'repo' });
});

describe('the scripts the containers run', () => {
  const pod = only(synthChart(chart => job(chart)), 'Job').spec.template.spec;
  const awk = container(pod, 'report').command;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-report-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const digest = `sha256:${'ab'.repeat(32)}`;
  // awk writes the termination message to a file; /dev/termination-log is swapped for one here.
  // The host's awk, and busybox's (what buildpacks/build-builder.sh's builder has) where installed.
  const awks: string[][] = [['awk'], ...(fs.existsSync('/bin/busybox') ? [['/bin/busybox', 'awk']] : [])];
  const runReport = (toml: string, [file0, ...pre] = awks[0]): { code: number; stdout: string; message: string } => {
    const file = path.join(tmp, 'report.toml');
    const message = path.join(tmp, 'message');
    fs.writeFileSync(file, toml);
    fs.rmSync(message, { force: true });
    try {
      const args = [...pre, awk[1], awk[2], awk[3].replace('/dev/termination-log', message), file];
      const stdout = execFileSync(file0, args, { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stdout, message: fs.readFileSync(message, 'utf-8') };
    } catch (e) {
      return { code: (e as any).status, stdout: '', message: '' };
    }
  };

  test.each(awks.map(a => [a.join(' '), a]))('the report container takes the digest of the [image] table, nothing else (%s)', (_name, impl) => {
    const r = runReport(`[build]\n  digest = "sha256:${'00'.repeat(32)}"\n\n[image]\n  tags = ["ghcr.io/acme/todo:latest"]\n  digest = "${digest}"\n  manifest-size = 1234\n`, impl);
    expect(r).toEqual({ code: 0, stdout: `${digest}\n`, message: digest });
  });

  test.each(awks.map(a => [a.join(' '), a]))('a report without an image digest fails the container (%s)', (_name, impl) => {
    expect(runReport('[build]\n', impl).code).toBe(1);
    expect(runReport('[image]\n  tags = ["x"]\n', impl).code).toBe(1);
  });

  test('the fetch script is valid sh', () => {
    const script = initContainer(pod, 'source').command[2];
    expect(() => execFileSync('sh', ['-n', '-c', script])).not.toThrow();
    expect(script).toContain('git fetch -q --depth=1 "$GIT_URL" "$GIT_REVISION"');
  });
});

describe('bad props are ValidationErrors naming the construct', () => {
  test.each<[string, Partial<BuildpacksBuildJobProps>, RegExp]>([
    ['git:// URL', { gitUrl: 'git://github.com/acme/x.git' }, /gitUrl "git:\/\/github.com\/acme\/x.git" is not an https:\/\/ or http:\/\/ git URL/],
    ['credentials in the URL', { gitUrl: 'https://bot:s3cret@github.com/acme/x.git' }, /carries credentials: put them in a Secret/],
    ['revision with ..', { gitRevision: 'main..dev' }, /gitRevision "main..dev" is not a branch, tag, ref or commit/],
    ['revision that is an option', { gitRevision: '--upload-pack=evil' }, /gitRevision "--upload-pack=evil"/],
    ['context sub path escaping', { contextSubPath: '../etc' }, /contextSubPath "..\/etc" must be a relative path/],
    ['repository with tag', { repository: 'ghcr.io/acme/todo:v1' }, /repository "ghcr.io\/acme\/todo:v1" is not a valid image repository/],
    ['bad tag', { tag: 'v 1' }, /tag "v 1" is not a valid image tag/],
    ['cache tag equal to the tag', { tag: 'v1', cacheTag: 'v1' }, /cacheTag "v1" is the image's own tag/],
    ['bad cache tag', { cacheTag: ':x' }, /cacheTag ":x" is not a valid image tag/],
    ['bad secret name', { dockerConfigSecret: 'Push_Secret' }, /dockerConfigSecret "Push_Secret" is not a valid DNS-1123 subdomain/],
    ['bad git secret name', { gitCredentialsSecret: 'Git_Login' }, /gitCredentialsSecret "Git_Login"/],
    ['bad build env name', { buildEnv: { 'GO-PROXY': 'x' } }, /environment variable name "GO-PROXY" is invalid/],
    ['insecure registry with a path', { insecureRegistries: ['registry:5000/acme'] }, /insecureRegistries: "registry:5000\/acme" is not a registry host\[:port\]/],
    ['root user', { userId: 0 }, /userId 0 is out of range/],
    ['deadline too short', { activeDeadlineSeconds: 5 }, /activeDeadlineSeconds 5 is out of range/],
    ['unpinned builder', { builder: ContainerImage.fromTag('ghcr.io/acme/cnb-builder', 'latest') }, /referenced by tag/],
    ['unpinned git image', { gitImage: ContainerImage.fromTag('ghcr.io/acme/git', 'latest') }, /referenced by tag/],
  ])('%s', (_what, props, message) => {
    let error: unknown;
    try {
      synthChart(chart => job(chart, props));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).constructPath).toBe('test/build-todo');
    expect((error as Error).message).toMatch(message);
  });

  test('tagged images are accepted when allowed', () => {
    const objects = synthChart(chart => job(chart, {
      builder: ContainerImage.fromTag('ghcr.io/acme/cnb-builder', 'v1'), gitImage: ContainerImage.fromTag('ghcr.io/acme/git', 'v2'), allowUnpinnedImages: true,
    }));
    expect(container(only(objects, 'Job').spec.template.spec, 'report').image).toBe('ghcr.io/acme/cnb-builder:v1');
  });
});
