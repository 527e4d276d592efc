import { Construct } from 'constructs';
import { checkDnsLabel, checkDnsSubdomain, checkEnvName, checkInteger } from '../common/checks';
import { k8s } from '../common/k8s';
import { objectLabels } from '../common/labels';
import { ComputeResources, renderResources } from '../common/resources';
import { createServiceAccount } from '../common/service-account';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';
import { repositoryProblem, tagProblem } from '../images/reference';

/** Repository of the kaniko executor image, for `ContainerImage.fromDigest`. */
export const KANIKO_EXECUTOR_REPOSITORY = 'gcr.io/kaniko-project/executor';

/**
 * The Pod Security Standard level the Job's namespace must allow: kaniko runs
 * as root, so "restricted" rejects it. Label the namespace
 * `pod-security.kubernetes.io/enforce: baseline` (or privileged).
 */
export const KANIKO_POD_SECURITY_LEVEL = 'baseline';

/**
 * Capabilities kaniko always needs: it unpacks base images and runs `RUN`
 * steps as root in its own root filesystem, so it must chown, override file
 * permissions and switch users. Everything else is dropped.
 */
export const KANIKO_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETGID', 'SETUID'];

/** Capabilities the "baseline" Pod Security Standard allows to add. */
const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];

/** kaniko's git context: `git://host/path.git[#ref[#commit]]`. */
const GIT_CONTEXT = /^git:\/\/[^\s#]+(#[^\s#]+){0,2}$/;
const RELATIVE_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/;

/** Where the Secret with push credentials is mounted; kaniko reads `$DOCKER_CONFIG/config.json`. */
const DOCKER_CONFIG_DIR = '/kaniko/.docker';

/** Props of {@link KanikoBuildJob}. */
export interface KanikoBuildJobProps {
  /**
   * Name of the Job and its ServiceAccount.
   * @default - the construct id
   */
  readonly name?: string;
  /** The kaniko executor image, e.g. `ContainerImage.fromDigest(KANIKO_EXECUTOR_REPOSITORY, 'sha256:...')`. */
  readonly image: ContainerImage;
  /**
   * Allow the executor image by tag. A tag can be moved to another image, so only for dev.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * Git repository to build, in kaniko's form `git://github.com/acme/todo.git#refs/heads/main`
   * (optionally `#<commit>` after the ref). kaniko fetches it over `gitTransport`.
   */
  readonly gitContext: string;
  /**
   * How kaniko fetches the git context: `https`, or `http` for a git server
   * inside the cluster's own network (kaniko's GIT_PULL_METHOD).
   * @default 'https'
   */
  readonly gitTransport?: 'https' | 'http';
  /**
   * Directory of the build context inside the repository.
   * @default 'app'
   */
  readonly contextSubPath?: string;
  /**
   * Dockerfile, relative to the context.
   * @default 'Dockerfile'
   */
  readonly dockerfile?: string;
  /** Repository to push to, without tag or digest, e.g. `ghcr.io/acme/todo`. */
  readonly repository: string;
  /**
   * Tag to push; the digest, not the tag, is what gets pinned.
   * @default 'latest'
   */
  readonly tag?: string;
  /**
   * Name of a `kubernetes.io/dockerconfigjson` Secret with push credentials for
   * the registry; mounted read-only as kaniko's `config.json`.
   */
  readonly dockerConfigSecret: string;
  /**
   * Secret with `username` and `password` keys for a private git repository,
   * passed as kaniko's GIT_USERNAME / GIT_PASSWORD.
   * @default - the repository is cloned anonymously
   */
  readonly gitCredentialsSecret?: string;
  /**
   * Dockerfile `ARG` values.
   * @default - none
   */
  readonly buildArgs?: Record<string, string>;
  /**
   * Capabilities added to kaniko's own six (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, SETGID, SETUID), for Dockerfiles whose
   * base images carry file capabilities (`SETFCAP`) or device nodes (`MKNOD`).
   * Only those "baseline" allows are accepted.
   * @default - none
   */
  readonly additionalCapabilities?: string[];
  /**
   * CPU and memory of the build.
   * @default - 500m/1Gi requested, 2 CPUs/4Gi limit (Go compiles are memory-hungry)
   */
  readonly resources?: ComputeResources;
  /**
   * Seconds before a hanging build is killed.
   * @default 1800
   */
  readonly activeDeadlineSeconds?: number;
  /**
   * Seconds a finished Job (and its digest in the pod's termination message) is kept.
   * @default 86400
   */
  readonly ttlSecondsAfterFinished?: number;
  /**
   * Pod retries on failure. Build failures are nearly always deterministic,
   * so a retry usually only doubles the wait.
   * @default 0
   */
  readonly backoffLimit?: number;
}

const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '500m', memoryRequest: '1Gi', cpuLimit: '2', memoryLimit: '4Gi' };

/**
 * A one-off Job that builds a Dockerfile from git with kaniko and pushes it.
 * The pushed digest ends up as the pod's termination message
 * (`kubectl get pod -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.message}'`),
 * ready to be written to the image lock.
 *
 * kaniko must run as root, so the pod cannot meet the "restricted" Pod Security
 * Standard: run it in a namespace labelled for the "baseline" level or
 * privileged, never next to the application. Within that, the pod is as
 * tight as kaniko allows: every capability dropped except kaniko's six,
 * no privilege escalation, RuntimeDefault seccomp,
 * no service account token, no host access.
 */
export class KanikoBuildJob extends Construct {
  /** Name of the Job. */
  public readonly name: string;
  /** `repository:tag` the image is pushed to. */
  public readonly destination: string;
  /** The Job. */
  public readonly job: k8s.KubeJob;

  constructor(scope: Construct, id: string, props: KanikoBuildJobProps) {
    super(scope, id);
    this.name = checkDnsLabel(this, 'name', props.name ?? id);
    if (!GIT_CONTEXT.test(props.gitContext)) {
      ValidationError.fail(this, `gitContext "${props.gitContext}" is not a kaniko git context: write it as git://github.com/acme/todo.git#refs/heads/main`);
    }
    const contextSubPath = checkRelativePath(this, 'contextSubPath', props.contextSubPath ?? 'app');
    const dockerfile = checkRelativePath(this, 'dockerfile', props.dockerfile ?? 'Dockerfile');
    const repoError = repositoryProblem(props.repository);
    if (repoError) ValidationError.fail(this, `repository ${repoError}`);
    const tag = props.tag ?? 'latest';
    const tagError = tagProblem(tag);
    if (tagError) ValidationError.fail(this, `tag ${tagError}`);
    const dockerConfigSecret = checkDnsSubdomain(this, 'dockerConfigSecret', props.dockerConfigSecret);
    const gitSecret = props.gitCredentialsSecret !== undefined ? checkDnsSubdomain(this, 'gitCredentialsSecret', props.gitCredentialsSecret) : undefined;
    const buildArgs = props.buildArgs ?? {};
    for (const name of Object.keys(buildArgs)) checkEnvName(this, name);
    const extraCaps = props.additionalCapabilities ?? [];
    for (const cap of extraCaps) {
      if (!BASELINE_CAPABILITIES.includes(cap)) {
        ValidationError.fail(this, `additionalCapabilities: "${cap}" is not allowed by the baseline Pod Security Standard; allowed: ${BASELINE_CAPABILITIES.join(', ')}`);
      }
    }
    const activeDeadlineSeconds = checkInteger(this, 'activeDeadlineSeconds', props.activeDeadlineSeconds ?? 1800, 60, 86400);
    const ttlSecondsAfterFinished = checkInteger(this, 'ttlSecondsAfterFinished', props.ttlSecondsAfterFinished ?? 86400, 0, 30 * 86400);
    const backoffLimit = checkInteger(this, 'backoffLimit', props.backoffLimit ?? 0, 0, 10);
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });
    this.destination = `${props.repository}:${tag}`;

    const labels = objectLabels({ name: this.name, component: 'image-build' });
    const serviceAccount = createServiceAccount(this, this.name, labels);

    const args = [
      `--context=${props.gitContext}`,
      `--context-sub-path=${contextSubPath}`,
      `--dockerfile=${dockerfile}`,
      `--destination=${this.destination}`,
      // The kubelet reports this file as the termination message: the digest
      // can be read from the API without logs or a shared volume.
      '--digest-file=/dev/termination-log',
      // Timestamps stripped, so rebuilding the same commit gives the same digest.
      '--reproducible',
      ...Object.keys(buildArgs).sort().map(k => `--build-arg=${k}=${buildArgs[k]}`),
    ];
    const gitTransport = props.gitTransport ?? 'https';
    if (gitTransport !== 'https' && gitTransport !== 'http') {
      ValidationError.fail(this, `gitTransport "${gitTransport}" is not one of https, http`);
    }
    const env: k8s.EnvVar[] = [{ name: 'DOCKER_CONFIG', value: DOCKER_CONFIG_DIR }];
    if (gitTransport === 'http') env.push({ name: 'GIT_PULL_METHOD', value: 'http' });
    if (gitSecret) {
      env.push(
        { name: 'GIT_USERNAME', valueFrom: { secretKeyRef: { name: gitSecret, key: 'username' } } },
        { name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: gitSecret, key: 'password' } } },
      );
    }

    this.job = new k8s.KubeJob(this, 'Job', {
      metadata: { name: this.name, labels },
      spec: {
        backoffLimit,
        activeDeadlineSeconds,
        ttlSecondsAfterFinished,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            serviceAccountName: serviceAccount.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // Root is kaniko's requirement, not a default left in place.
            securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'kaniko',
              image,
              args,
              env,
              // Kaniko unpacks the base image and builds on the container's own disk.
              resources: renderResources(this, 'resources', props.resources ?? DEFAULT_RESOURCES, '4Gi'),
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                privileged: false,
                allowPrivilegeEscalation: false,
                // kaniko builds by writing its own root filesystem.
                readOnlyRootFilesystem: false,
                capabilities: { drop: ['ALL'], add: [...KANIKO_CAPABILITIES, ...extraCaps.filter(c => !KANIKO_CAPABILITIES.includes(c))] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'docker-config', mountPath: DOCKER_CONFIG_DIR, readOnly: true }],
            }],
            volumes: [{
              name: 'docker-config',
              secret: { secretName: dockerConfigSecret, items: [{ key: '.dockerconfigjson', path: 'config.json' }], defaultMode: 0o400 },
            }],
          },
        },
      },
    });
  }
}

function checkRelativePath(scope: Construct, what: string, value: string): string {
  if (!RELATIVE_PATH.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" must be a relative path inside the repository, without '..'`);
  }
  return value;
}
