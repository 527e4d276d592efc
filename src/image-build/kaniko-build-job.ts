import { Construct } from 'constructs';
import { BuildJob, BuildJobProps, checkRelativePath, TERMINATION_MESSAGE } from './build-job';
import { checkEnvName } from '../common/checks';
import { k8s } from '../common/k8s';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';

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

/** Where the Secret with push credentials is mounted; kaniko reads `$DOCKER_CONFIG/config.json`. */
const DOCKER_CONFIG_DIR = '/kaniko/.docker';

/** Props of {@link KanikoBuildJob}. */
export interface KanikoBuildJobProps extends BuildJobProps {
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
   * Dockerfile, relative to the context.
   * @default 'Dockerfile'
   */
  readonly dockerfile?: string;
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
}

/**
 * A {@link BuildJob} that builds a Dockerfile from git with kaniko and pushes it;
 * kaniko writes the pushed digest as the pod's termination message.
 *
 * kaniko must run as root, so the pod cannot meet the "restricted" Pod Security
 * Standard: run it in a namespace labelled for the "baseline" level or
 * privileged, never next to the application. Within that, the pod is as
 * tight as kaniko allows: every capability dropped except kaniko's six,
 * no privilege escalation, RuntimeDefault seccomp,
 * no service account token, no host access.
 */
export class KanikoBuildJob extends BuildJob {
  constructor(scope: Construct, id: string, props: KanikoBuildJobProps) {
    super(scope, id, props);
    if (!GIT_CONTEXT.test(props.gitContext)) {
      ValidationError.fail(this, `gitContext "${props.gitContext}" is not a kaniko git context: write it as git://github.com/acme/todo.git#refs/heads/main`);
    }
    const dockerfile = checkRelativePath(this, 'dockerfile', props.dockerfile ?? 'Dockerfile');
    const buildArgs = props.buildArgs ?? {};
    for (const name of Object.keys(buildArgs)) checkEnvName(this, name);
    const extraCaps = props.additionalCapabilities ?? [];
    for (const cap of extraCaps) {
      if (!BASELINE_CAPABILITIES.includes(cap)) {
        ValidationError.fail(this, `additionalCapabilities: "${cap}" is not allowed by the baseline Pod Security Standard; allowed: ${BASELINE_CAPABILITIES.join(', ')}`);
      }
    }
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });

    const args = [
      `--context=${props.gitContext}`,
      `--context-sub-path=${this._contextSubPath}`,
      `--dockerfile=${dockerfile}`,
      `--destination=${this.destination}`,
      // The digest as the termination message.
      `--digest-file=${TERMINATION_MESSAGE.terminationMessagePath}`,
      // Timestamps stripped, so rebuilding the same commit gives the same digest.
      '--reproducible',
      ...Object.keys(buildArgs).sort().map(k => `--build-arg=${k}=${buildArgs[k]}`),
    ];
    const gitTransport = props.gitTransport ?? 'https';
    if (gitTransport !== 'https' && gitTransport !== 'http') {
      ValidationError.fail(this, `gitTransport "${gitTransport}" is not one of https, http`);
    }
    const dockerConfig = this._dockerConfig(DOCKER_CONFIG_DIR, 0o400);
    const env: k8s.EnvVar[] = [dockerConfig.env];
    if (gitTransport === 'http') env.push({ name: 'GIT_PULL_METHOD', value: 'http' });
    env.push(...this._gitCredentialsEnv());

    this._renderJob({
      // Root is kaniko's requirement, not a default left in place.
      securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'kaniko',
        image,
        args,
        env,
        // Kaniko unpacks the base image and builds on the container's own disk.
        resources: this._buildResources,
        ...TERMINATION_MESSAGE,
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
        volumeMounts: [dockerConfig.mount],
      }],
      volumes: [dockerConfig.volume],
    });
  }
}
