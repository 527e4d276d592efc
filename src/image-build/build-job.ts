import { Construct } from 'constructs';
import { checkDnsLabel, checkDnsSubdomain, checkInteger } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeJob } from '../common/kube-objects';
import { objectLabels } from '../common/labels';
import { ComputeResources, renderResources } from '../common/resources';
import { createServiceAccount } from '../common/service-account';
import { ValidationError } from '../common/validation-error';
import { repositoryProblem, tagProblem } from '../images/reference';

const RELATIVE_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/;

/** The build container's resources unless given: Go compiles are memory-hungry. */
const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '500m', memoryRequest: '1Gi', cpuLimit: '2', memoryLimit: '4Gi', ephemeralStorage: '4Gi' };

/**
 * Where a build container leaves what it reports (the digest pushed, the commit fetched):
 * the kubelet makes the file the container's termination message, readable from the API
 * without logs or a shared volume.
 * @internal
 */
export const TERMINATION_MESSAGE = { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };

/** Props every {@link BuildJob} takes: what to build from, where to push, and the Job's limits. */
export interface BuildJobProps {
  /**
   * Name of the Job and its ServiceAccount, and the prefix of any other object the build makes.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Directory of the application inside the repository: the build's context, where the
   * builder looks for the Dockerfile or the files buildpacks detect (`go.mod`, `Procfile`).
   * @default 'app'
   */
  readonly contextSubPath?: string;
  /** Repository to push to, without tag or digest, e.g. `ghcr.io/acme/todo`. */
  readonly repository: string;
  /**
   * Tag to push; the digest, not the tag, is what gets pinned.
   * @default 'latest'
   */
  readonly tag?: string;
  /**
   * Name of a `kubernetes.io/dockerconfigjson` Secret with credentials for the registry (the push
   * to `repository`, and any pull the builder makes from it); mounted read-only as the builder's
   * `$DOCKER_CONFIG/config.json`.
   */
  readonly dockerConfigSecret: string;
  /**
   * Secret with `username` and `password` keys for a private git repository, handed to the
   * builder's git as GIT_USERNAME / GIT_PASSWORD from the environment, never in a URL.
   * @default - the repository is fetched anonymously
   */
  readonly gitCredentialsSecret?: string;
  /**
   * CPU, memory and disk of the build (the container that compiles and pushes).
   * @default - 500m/1Gi requested, 2 CPUs/4Gi limit, 4Gi of disk (Go compiles are memory-hungry)
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

/**
 * The pod of a build: everything but what every build Job sets the same way.
 * @internal
 */
export type BuildPodSpec = Omit<k8s.PodSpec, 'restartPolicy' | 'serviceAccountName' | 'automountServiceAccountToken' | 'enableServiceLinks'>;

/**
 * A one-off Job that builds an image from git in the cluster and pushes it to
 * `repository:tag`. The pushed digest ends up as the pod's termination message
 * (`kubectl get pod -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.message}'`),
 * ready to be written to the image lock.
 *
 * Every build Job runs once, is killed after `activeDeadlineSeconds` and removed
 * `ttlSecondsAfterFinished` after it ends; its pod has a ServiceAccount of its own
 * with no API token, no service links and no host access.
 * The builds are {@link KanikoBuildJob} and {@link BuildpacksBuildJob}; this is their common type.
 */
export abstract class BuildJob extends Construct {
  /** Name of the Job. */
  public readonly name: string;
  /** `repository:tag` the image is pushed to. */
  public readonly destination: string;

  /**
   * The application's directory inside the repository, checked.
   * @internal
   */
  protected readonly _contextSubPath: string;
  /**
   * The tag pushed, checked.
   * @internal
   */
  protected readonly _tag: string;
  /**
   * Labels of every object the build makes.
   * @internal
   */
  protected readonly _labels: Record<string, string>;
  /**
   * Resources of the build container, defaults applied.
   * @internal
   */
  protected readonly _resources: ComputeResources;
  /**
   * Resources of the build container, checked and rendered.
   * @internal
   */
  protected readonly _buildResources: k8s.ResourceRequirements;

  private readonly serviceAccountName: string;
  private readonly dockerConfigSecret: string;
  private readonly gitCredentialsSecret?: string;
  private readonly jobLimits: Pick<k8s.JobSpec, 'backoffLimit' | 'activeDeadlineSeconds' | 'ttlSecondsAfterFinished'>;
  private renderedJob?: k8s.KubeJob;

  protected constructor(scope: Construct, id: string, props: BuildJobProps) {
    super(scope, id);
    this.name = checkDnsLabel(this, 'name', props.name ?? id);
    this._contextSubPath = checkRelativePath(this, 'contextSubPath', props.contextSubPath ?? 'app');
    const repoError = repositoryProblem(props.repository);
    if (repoError) ValidationError.fail(this, `repository ${repoError}`);
    this._tag = props.tag ?? 'latest';
    const tagError = tagProblem(this._tag);
    if (tagError) ValidationError.fail(this, `tag ${tagError}`);
    this.dockerConfigSecret = checkDnsSubdomain(this, 'dockerConfigSecret', props.dockerConfigSecret);
    if (props.gitCredentialsSecret !== undefined) {
      this.gitCredentialsSecret = checkDnsSubdomain(this, 'gitCredentialsSecret', props.gitCredentialsSecret);
    }
    this._resources = props.resources ?? DEFAULT_RESOURCES;
    this._buildResources = renderResources(this, 'resources', this._resources, '4Gi');
    this.jobLimits = {
      backoffLimit: checkInteger(this, 'backoffLimit', props.backoffLimit ?? 0, 0, 10),
      activeDeadlineSeconds: checkInteger(this, 'activeDeadlineSeconds', props.activeDeadlineSeconds ?? 1800, 60, 86400),
      ttlSecondsAfterFinished: checkInteger(this, 'ttlSecondsAfterFinished', props.ttlSecondsAfterFinished ?? 86400, 0, 30 * 86400),
    };
    this.destination = `${props.repository}:${this._tag}`;
    this._labels = objectLabels({ name: this.name, component: 'image-build' });
    this.serviceAccountName = createServiceAccount(this, this.name, this._labels).name;
  }

  /** The Job. */
  public get job(): k8s.KubeJob {
    if (!this.renderedJob) throw new Error(`${this.node.path}: the build Job has not been rendered yet`);
    return this.renderedJob;
  }

  /**
   * The git login for the builder's environment: GIT_USERNAME and GIT_PASSWORD from
   * `gitCredentialsSecret`, or nothing for an anonymous fetch.
   * @internal
   */
  protected _gitCredentialsEnv(): k8s.EnvVar[] {
    const name = this.gitCredentialsSecret;
    if (name === undefined) return [];
    return [
      { name: 'GIT_USERNAME', valueFrom: { secretKeyRef: { name, key: 'username' } } },
      { name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name, key: 'password' } } },
    ];
  }

  /**
   * The push credentials: `dockerConfigSecret` as `config.json` in `dir`, the builder's
   * `$DOCKER_CONFIG`; `defaultMode` is who may read it (the user, or the build group too).
   * @internal
   */
  protected _dockerConfig(dir: string, defaultMode: number): { env: k8s.EnvVar; mount: k8s.VolumeMount; volume: k8s.Volume } {
    return {
      env: { name: 'DOCKER_CONFIG', value: dir },
      mount: { name: 'docker-config', mountPath: dir, readOnly: true },
      volume: {
        name: 'docker-config',
        secret: { secretName: this.dockerConfigSecret, items: [{ key: '.dockerconfigjson', path: 'config.json' }], defaultMode },
      },
    };
  }

  /**
   * Makes {@link job}: the build's pod in the Job every build shares (run once, limits, labels,
   * its ServiceAccount without a token, no service links). Called once, by the subclass's constructor.
   * @internal
   */
  protected _renderJob(pod: BuildPodSpec): k8s.KubeJob {
    this.renderedJob = new KubeJob(this, 'Job', {
      metadata: { name: this.name, labels: this._labels },
      spec: {
        ...this.jobLimits,
        template: {
          metadata: { labels: this._labels },
          spec: {
            ...pod,
            restartPolicy: 'Never',
            serviceAccountName: this.serviceAccountName,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
          },
        },
      },
    });
    return this.renderedJob;
  }
}

/**
 * Checks a path inside the repository: relative, and never above it.
 * @internal
 */
export function checkRelativePath(scope: Construct, what: string, value: string): string {
  if (!RELATIVE_PATH.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" must be a relative path inside the repository, without '..'`);
  }
  return value;
}
