import { Chart } from 'cdk8s';
import { ContainerImage, ValidationError } from '../../src';
import { KANIKO_CAPABILITIES, KANIKO_EXECUTOR_REPOSITORY, KanikoBuildJob, KanikoBuildJobProps } from '../../src/image-build/kaniko-build-job';
import { digestOf } from '../support/fixtures';
import { restrictedViolations } from '../support/pod-security';
import { SchemaValidator } from '../support/schema';
import { container, only, synthChart } from '../support/synth';

const schema = new SchemaValidator();
const EXECUTOR = ContainerImage.fromDigest(KANIKO_EXECUTOR_REPOSITORY, digestOf('kaniko'));
const PROPS: KanikoBuildJobProps = {
  image: EXECUTOR,
  gitContext: 'git://github.com/acme/todo-gitops.git#refs/heads/main',
  repository: 'ghcr.io/acme/todo',
  dockerConfigSecret: 'ghcr-push',
};
const job = (chart: Chart, props: Partial<KanikoBuildJobProps> = {}) => new KanikoBuildJob(chart, 'build-todo', { ...PROPS, ...props });

describe('KanikoBuildJob defaults', () => {
  const objects = synthChart(chart => job(chart));
  const rendered = only(objects, 'Job', 'build-todo');
  const pod = rendered.spec.template.spec;
  const kaniko = container(pod, 'kaniko');

  test('snapshot', () => expect(objects).toMatchSnapshot());

  test('a Job and its ServiceAccount, schema-valid', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Job/build-todo', 'ServiceAccount/build-todo']);
    for (const o of objects) expect(schema.errors(o)).toEqual([]);
  });

  test('runs the pinned executor on the git context and writes the digest as termination message', () => {
    expect(kaniko.image).toBe(`${KANIKO_EXECUTOR_REPOSITORY}@${digestOf('kaniko')}`);
    expect(kaniko.args).toEqual([
      '--context=git://github.com/acme/todo-gitops.git#refs/heads/main',
      '--context-sub-path=app',
      '--dockerfile=Dockerfile',
      '--destination=ghcr.io/acme/todo:latest',
      '--digest-file=/dev/termination-log',
      '--reproducible',
    ]);
    expect(kaniko.terminationMessagePath).toBe('/dev/termination-log');
    expect(kaniko.terminationMessagePolicy).toBe('File');
  });

  test('push credentials come from the docker config Secret, read-only', () => {
    expect(pod.volumes).toEqual([{
      name: 'docker-config',
      secret: { secretName: 'ghcr-push', items: [{ key: '.dockerconfigjson', path: 'config.json' }], defaultMode: 0o400 },
    }]);
    expect(kaniko.volumeMounts).toEqual([{ name: 'docker-config', mountPath: '/kaniko/.docker', readOnly: true }]);
    expect(kaniko.env).toEqual([{ name: 'DOCKER_CONFIG', value: '/kaniko/.docker' }]);
  });

  test('a one-shot Job that cleans up after itself', () => {
    expect(rendered.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 86400 });
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  test('root, as kaniko needs, but otherwise as tight as it allows', () => {
    expect(kaniko.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      capabilities: { drop: ['ALL'], add: KANIKO_CAPABILITIES },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
  });

  test('fails "restricted" only for root, the root filesystem and the added capabilities (so it meets "baseline")', () => {
    expect(restrictedViolations(pod).sort()).toEqual([
      ...KANIKO_CAPABILITIES.map(c => `container kaniko: adds capability ${c}`),
      'container kaniko: root filesystem writable',
      'container kaniko: runAsNonRoot not true',
      'pod runAsUser 0',
      'container kaniko: runAsUser 0',
    ].sort());
  });
});

test('options: tag, build args, git credentials, extra capabilities, resources', () => {
  const objects = synthChart(chart => job(chart, {
    name: 'build',
    tag: 'sha-abc',
    contextSubPath: 'services/todo',
    dockerfile: 'build/Dockerfile',
    buildArgs: { RUNTIME_IMAGE: 'scratch', GO_IMAGE: 'golang:1.26' },
    gitCredentialsSecret: 'git-login',
    additionalCapabilities: ['SETFCAP', 'CHOWN'],
    resources: { cpuRequest: '1', memoryRequest: '2Gi', cpuLimit: '2', memoryLimit: '3Gi' },
    backoffLimit: 1,
  }));
  const kaniko = container(only(objects, 'Job', 'build').spec.template.spec, 'kaniko');
  expect(kaniko.args).toEqual(expect.arrayContaining([
    '--context-sub-path=services/todo', '--dockerfile=build/Dockerfile', '--destination=ghcr.io/acme/todo:sha-abc',
    '--build-arg=GO_IMAGE=golang:1.26', '--build-arg=RUNTIME_IMAGE=scratch',
  ]));
  expect(kaniko.args.indexOf('--build-arg=GO_IMAGE=golang:1.26')).toBeLessThan(kaniko.args.indexOf('--build-arg=RUNTIME_IMAGE=scratch'));
  expect(kaniko.env).toContainEqual({ name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: 'git-login', key: 'password' } } });
  expect(kaniko.env.map((e: any) => e.name)).not.toContain('GIT_PULL_METHOD');
  expect(kaniko.securityContext.capabilities.add).toEqual([...KANIKO_CAPABILITIES, 'SETFCAP']);
  expect(kaniko.resources.limits.memory).toBe('3Gi');
  for (const o of objects) expect(schema.errors(o)).toEqual([]);
});

test('gitTransport http: kaniko fetches the git context over plain http (a git server inside the cluster)', () => {
  const objects = synthChart(chart => job(chart, { gitTransport: 'http' }));
  const kaniko = container(only(objects, 'Job', 'build-todo').spec.template.spec, 'kaniko');
  expect(kaniko.env).toContainEqual({ name: 'GIT_PULL_METHOD', value: 'http' });
});

describe('bad props are ValidationErrors naming the construct', () => {
  test.each<[string, Partial<KanikoBuildJobProps>, RegExp]>([
    ['https context', { gitContext: 'https://github.com/acme/x.git' }, /gitContext "https:\/\/github.com\/acme\/x.git" is not a kaniko git context/],
    ['context sub path escaping', { contextSubPath: '../etc' }, /contextSubPath "..\/etc" must be a relative path/],
    ['absolute dockerfile', { dockerfile: '/Dockerfile' }, /dockerfile "\/Dockerfile" must be a relative path/],
    ['repository with tag', { repository: 'ghcr.io/acme/todo:v1' }, /repository "ghcr.io\/acme\/todo:v1" is not a valid image repository/],
    ['bad tag', { tag: 'v 1' }, /tag "v 1" is not a valid image tag/],
    ['bad secret name', { dockerConfigSecret: 'Push_Secret' }, /dockerConfigSecret "Push_Secret" is not a valid DNS-1123 subdomain/],
    ['bad build arg', { buildArgs: { 'GO-IMAGE': 'x' } }, /environment variable name "GO-IMAGE" is invalid/],
    ['capability beyond baseline', { additionalCapabilities: ['SYS_ADMIN'] }, /"SYS_ADMIN" is not allowed by the baseline Pod Security Standard/],
    ['deadline too short', { activeDeadlineSeconds: 5 }, /activeDeadlineSeconds 5 is out of range/],
    ['unpinned executor', { image: ContainerImage.fromTag(KANIKO_EXECUTOR_REPOSITORY, 'latest') }, /referenced by tag/],
    ['unknown git transport', { gitTransport: 'ssh' as any }, /gitTransport "ssh" is not one of https, http/],
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

  test('a tagged executor is accepted when allowed', () => {
    const objects = synthChart(chart => job(chart, { image: ContainerImage.fromTag(KANIKO_EXECUTOR_REPOSITORY, 'v1.23.2'), allowUnpinnedImage: true }));
    expect(container(only(objects, 'Job').spec.template.spec, 'kaniko').image).toBe(`${KANIKO_EXECUTOR_REPOSITORY}:v1.23.2`);
  });
});
