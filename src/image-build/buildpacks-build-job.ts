import { Construct } from 'constructs';
import { BuildJob, BuildJobProps, TERMINATION_MESSAGE } from './build-job';
import { BUILDPACKS_CACHE_TAG, CNB_PLATFORM_API, CREATOR_PATH } from './buildpacks-builder';
import { checkEnvName, checkInteger } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeConfigMap } from '../common/kube-objects';
import { renderResources } from '../common/resources';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';
import { tagProblem } from '../images/reference';

/** The user (and group) the stock builders and buildpacks/build-builder.sh's builder run the lifecycle as. */
export const CNB_DEFAULT_USER_ID = 65532;

/** A git URL the git image fetches: `https://` (or `http://` for a git server inside the cluster's network). */
const GIT_URL = /^https?:\/\/[^\s/'"\\]+\/[^\s'"\\]*$/;
/** A branch, tag, full ref or commit: what `git fetch URL <revision>` accepts. */
const GIT_REVISION = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\/$)[A-Za-z0-9._/-]+$/;
/** host[:port] of a registry. */
const REGISTRY_HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/** Where the source is fetched to (an emptyDir); the checkout is its `repo/` directory. */
const SOURCE_DIR = '/source';
const CHECKOUT = 'repo';
/** The lifecycle's directories, as the CNB platform spec names them. */
const APP_DIR = '/workspace';
const LAYERS_DIR = '/layers';
const PLATFORM_DIR = '/platform';
const REPORT_FILE = `${LAYERS_DIR}/report.toml`;
/** Where the Secret with push credentials is mounted; the lifecycle reads `$DOCKER_CONFIG/config.json`. */
const DOCKER_CONFIG_DIR = '/docker-config';

/**
 * Fetches one revision, shallow, into /source/repo (a directory the build
 * user makes, so git trusts its owner), records the commit and drops `.git`
 * (the app directory becomes the image's app layer). Credentials, when
 * given, come from the environment through a credential helper, never the URL.
 */
const FETCH_SCRIPT = [
  'set -eu',
  `mkdir ${SOURCE_DIR}/${CHECKOUT}`,
  `cd ${SOURCE_DIR}/${CHECKOUT}`,
  'git init -q .',
  'if [ -n "${GIT_USERNAME:-}" ]; then',
  '  git config credential.helper \'!f() { echo "username=$GIT_USERNAME"; echo "password=$GIT_PASSWORD"; }; f\'',
  'fi',
  'git fetch -q --depth=1 "$GIT_URL" "$GIT_REVISION"',
  'git checkout -q --detach FETCH_HEAD',
  'commit=$(git rev-parse HEAD)',
  'rm -rf .git',
  'echo "fetched $GIT_URL $GIT_REVISION: commit $commit"',
  'printf %s "$commit" >/dev/termination-log',
].join('\n');

/**
 * Reads the digest of the exported image from the `[image]` table of the
 * lifecycle's report.toml and makes it the container's termination message.
 */
const REPORT_PROGRAM = [
  '/^\\[/ { table = $0 }',
  'table == "[image]" && $1 ~ /^[ \\t]*digest = $/ { digest = $2 }',
  'END {',
  '  if (digest !~ /^sha256:[0-9a-f]+$/) { print "no [image] digest in ' + REPORT_FILE + '" > "/dev/stderr"; exit 1 }',
  '  print digest',
  '  printf "%s", digest > "/dev/termination-log"',
  '}',
].join('\n');

/** Props of {@link BuildpacksBuildJob}. */
export interface BuildpacksBuildJobProps extends BuildJobProps {
  /**
   * The builder image: the CNB lifecycle in `/cnb/lifecycle` (v0.20, Platform API 0.14), the
   * buildpacks in `/cnb/buildpacks`, `/cnb/order.toml`, the run image in `/cnb/run.toml`, and
   * `awk` (busybox's will do) for reading the digest; e.g. the one `buildpacks/build-builder.sh` makes.
   */
  readonly builder: ContainerImage;
  /**
   * An image with `git` and a POSIX `sh` that fetches the source; it runs as
   * the build user, like the lifecycle.
   */
  readonly gitImage: ContainerImage;
  /**
   * Allow the builder, git and run images by tag. A tag can be moved to another image, so only for dev.
   * @default false
   */
  readonly allowUnpinnedImages?: boolean;
  /**
   * Git repository to build, `https://github.com/acme/todo.git`, or `http://` for a git server
   * inside the cluster's own network.
   */
  readonly gitUrl: string;
  /**
   * What to fetch: a branch, a tag, a full ref (`refs/heads/main`), or a commit where the
   * server lets clients fetch commits by id (GitHub and GitLab do). Only that revision is
   * fetched (`--depth=1`); the commit built is the git container's termination message.
   * @default 'main'
   */
  readonly gitRevision?: string;
  /**
   * Tag of the build cache the lifecycle keeps beside the image in `repository` (cached
   * layers such as the Go toolchain): a rebuild restores them instead of making them again.
   * @default 'buildpacks-cache'
   */
  readonly cacheTag?: string;
  /**
   * The image the app is exported onto.
   * @default - the builder's `/cnb/run.toml`
   */
  readonly runImage?: ContainerImage;
  /**
   * Build-time environment of the buildpacks: the platform's `env/` directory (like
   * `pack build --env` and `--build-arg` of `build:image --builder buildpacks`), e.g.
   * `GOPROXY`, `BP_GO_VERSION`. Kept in a ConfigMap `<name>-build-env`, so no secrets here.
   * @default - none
   */
  readonly buildEnv?: Record<string, string>;
  /**
   * Registries (`host[:port]`) the lifecycle reaches over plain HTTP, e.g. a registry inside
   * the cluster by its Service name. (Its registry client, go-containerregistry, already uses plain
   * HTTP for loopback and private RFC 1918 addresses.)
   * @default - none
   */
  readonly insecureRegistries?: string[];
  /**
   * User id the pod runs as: the builder's build user (`CNB_USER_ID`), which owns the layers
   * and is the user of the exported image's layers.
   * @default 65532
   */
  readonly userId?: number;
  /**
   * Group id the pod runs as (`CNB_GROUP_ID`), also the pod's fsGroup.
   * @default 65532
   */
  readonly groupId?: number;
}

/**
 * A {@link BuildJob} that builds an image from git with Cloud Native Buildpacks,
 * without a Dockerfile, as kpack does: an init container fetches one revision
 * with git, the lifecycle's `creator` (detect, analyze, restore, build,
 * export) runs in the builder image and publishes to the registry with the
 * build cache beside the image, and the last container reads the digest from
 * the lifecycle's report.toml. The pushed digest ends up as the pod's
 * termination message, as with {@link KanikoBuildJob}
 * (`kubectl get pod -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.message}'`),
 * ready to be written to the image lock; the commit built is the `source`
 * init container's.
 *
 * Unlike kaniko, the lifecycle needs neither root nor capabilities: every
 * container meets the "restricted" Pod Security Standard (non-root build user,
 * every capability dropped, no privilege escalation, read-only root
 * filesystem, RuntimeDefault seccomp), no service account token, no host access.
 */
export class BuildpacksBuildJob extends BuildJob {
  /** The ConfigMap with the build environment, when `buildEnv` is given. */
  public readonly buildEnvConfigMap?: k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: BuildpacksBuildJobProps) {
    super(scope, id, props);
    if (!GIT_URL.test(props.gitUrl)) {
      ValidationError.fail(this, `gitUrl "${props.gitUrl}" is not an https:// or http:// git URL: write it as https://github.com/acme/todo.git`);
    }
    if (/^https?:\/\/[^/]*@/.test(props.gitUrl)) {
      ValidationError.fail(this, `gitUrl "${props.gitUrl}" carries credentials: put them in a Secret and name it in gitCredentialsSecret`);
    }
    const revision = props.gitRevision ?? 'main';
    if (!GIT_REVISION.test(revision)) {
      ValidationError.fail(this, `gitRevision "${revision}" is not a branch, tag, ref or commit (letters, digits, '.', '_', '-', '/'; no '..')`);
    }
    const cacheTag = props.cacheTag ?? BUILDPACKS_CACHE_TAG;
    const cacheTagError = tagProblem(cacheTag);
    if (cacheTagError) ValidationError.fail(this, `cacheTag ${cacheTagError}`);
    if (cacheTag === this._tag) ValidationError.fail(this, `cacheTag "${cacheTag}" is the image's own tag: the cache would overwrite the image`);
    const buildEnv = props.buildEnv ?? {};
    for (const name of Object.keys(buildEnv)) checkEnvName(this, name);
    const insecure = props.insecureRegistries ?? [];
    for (const host of insecure) {
      if (!REGISTRY_HOST.test(host)) ValidationError.fail(this, `insecureRegistries: "${host}" is not a registry host[:port] (e.g. registry.build.svc:5000)`);
    }
    const userId = checkInteger(this, 'userId', props.userId ?? CNB_DEFAULT_USER_ID, 1, 2 ** 31 - 1);
    const groupId = checkInteger(this, 'groupId', props.groupId ?? CNB_DEFAULT_USER_ID, 1, 2 ** 31 - 1);
    const allowUnpinned = props.allowUnpinnedImages ?? false;
    const builder = props.builder.resolve(this, { allowUnpinned });
    const gitImage = props.gitImage.resolve(this, { allowUnpinned });
    const runImage = props.runImage?.resolve(this, { allowUnpinned });
    // The helpers are small; they get the build's disk so that the pod's disk limit covers the shared volumes.
    const disk = this._resources.ephemeralStorage ?? '4Gi';
    const helperResources = renderResources(this, 'resources', { cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '1', memoryLimit: '512Mi', ephemeralStorage: disk }, disk);

    if (Object.keys(buildEnv).length > 0) {
      this.buildEnvConfigMap = new KubeConfigMap(this, 'BuildEnv', {
        metadata: { name: `${this.name}-build-env`, labels: this._labels },
        data: Object.fromEntries(Object.keys(buildEnv).sort().map(k => [k, buildEnv[k]])),
      });
    }

    const args = [
      '-app', APP_DIR,
      '-layers', LAYERS_DIR,
      '-platform', PLATFORM_DIR,
      '-report', REPORT_FILE,
      '-cache-image', `${props.repository}:${cacheTag}`,
      ...(runImage ? ['-run-image', runImage] : []),
      ...insecure.flatMap(h => ['-insecure-registry', h]),
      '-log-level', 'info',
      // Plain text for `kubectl logs` and log collectors.
      '-no-color',
      this.destination,
    ];
    const securityContext: k8s.SecurityContext = {
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
    const tmp = { name: 'tmp', mountPath: '/tmp' };
    const gitEnv: k8s.EnvVar[] = [
      { name: 'GIT_URL', value: props.gitUrl },
      { name: 'GIT_REVISION', value: revision },
      // git's global config and the credential helper's home; the root filesystem is read-only.
      { name: 'HOME', value: '/tmp' },
      ...this._gitCredentialsEnv(),
    ];
    const appPath = this._contextSubPath === '.' ? CHECKOUT : `${CHECKOUT}/${this._contextSubPath.replace(/\/+$/, '')}`;
    const dockerConfig = this._dockerConfig(DOCKER_CONFIG_DIR, 0o440);

    this._renderJob({
      // The build user: the lifecycle runs as CNB_USER_ID, the source belongs to it.
      securityContext: {
        runAsNonRoot: true, runAsUser: userId, runAsGroup: groupId, fsGroup: groupId, seccompProfile: { type: 'RuntimeDefault' },
      },
      initContainers: [{
        name: 'source',
        image: gitImage,
        command: ['sh', '-c', FETCH_SCRIPT],
        env: gitEnv,
        resources: helperResources,
        ...TERMINATION_MESSAGE,
        securityContext,
        volumeMounts: [{ name: 'source', mountPath: SOURCE_DIR }, tmp],
      }, {
        name: 'creator',
        image: builder,
        command: [CREATOR_PATH],
        args,
        env: [
          { name: 'CNB_PLATFORM_API', value: CNB_PLATFORM_API },
          { name: 'CNB_USER_ID', value: String(userId) },
          { name: 'CNB_GROUP_ID', value: String(groupId) },
          dockerConfig.env,
        ],
        resources: this._buildResources,
        ...TERMINATION_MESSAGE,
        securityContext,
        volumeMounts: [
          { name: 'source', mountPath: APP_DIR, subPath: appPath },
          { name: 'layers', mountPath: LAYERS_DIR },
          { name: 'platform-env', mountPath: `${PLATFORM_DIR}/env`, readOnly: true },
          dockerConfig.mount,
          tmp,
        ],
      }],
      containers: [{
        name: 'report',
        image: builder,
        command: ['awk', '-F', '"', REPORT_PROGRAM, REPORT_FILE],
        resources: helperResources,
        ...TERMINATION_MESSAGE,
        securityContext,
        volumeMounts: [{ name: 'layers', mountPath: LAYERS_DIR, readOnly: true }],
      }],
      volumes: [
        { name: 'source', emptyDir: {} },
        { name: 'layers', emptyDir: {} },
        { name: 'tmp', emptyDir: {} },
        this.buildEnvConfigMap
          ? { name: 'platform-env', configMap: { name: this.buildEnvConfigMap.name, defaultMode: 0o444 } }
          : { name: 'platform-env', emptyDir: {} },
        dockerConfig.volume,
      ],
    });
  }
}
