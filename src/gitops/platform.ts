import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdApplication } from '../argocd/application';
import { ArgoCdProject } from '../argocd/project';
import { ContainerImage } from '../images/container-image';
import { ImageLock } from '../images/image-lock';
import { SealedSecretsController, SealedSecretsControllerProps } from '../sealed-secrets/controller';

/** Directory (under the tree) and Application suffix of the platform part. */
export const PLATFORM_DIRECTORY = 'platform';
/** Sync wave of the platform's Application in the app-of-apps: before every environment (wave 0). */
export const PLATFORM_SYNC_WAVE = -1;

/**
 * What a cluster needs before the environments: controllers and CRDs that
 * every environment uses, in `<outdir>/platform/`, synced by their own
 * Application (`<name>-platform`, sync wave -1, before the environments) in
 * their own AppProject, the only one allowed the cluster-scoped kinds.
 */
export interface GitOpsPlatform {
  /** Namespace of the platform's namespaced objects; its Application's destination, created by the sync. */
  readonly namespace: string;
  /** Cluster-scoped kinds the platform creates, which its AppProject allows. */
  readonly clusterResources: ReadonlyArray<{ readonly group: string; readonly kind: string }>;
  /**
   * Objects of the platform namespace made outside git (such as a
   * controller's keys), which Argo CD should not report as orphaned; `name`
   * may be a glob.
   * @default - none
   */
  readonly unmanagedResources?: ReadonlyArray<{ readonly group?: string; readonly kind: string; readonly name: string }>;
  /** Builds the platform's objects into `chart`, which has no namespace. */
  readonly stack: (chart: Chart, lock: ImageLock) => void;
}

/** Options of {@link sealedSecretsPlatform}. */
export interface SealedSecretsPlatformOptions extends Omit<SealedSecretsControllerProps, 'image'> {
  /**
   * Name of the controller image in the image lock.
   * @default 'sealed-secrets-controller'
   */
  readonly imageName?: string;
}

/**
 * The Sealed Secrets controller as a platform part: bootstrapping a cluster
 * is then `kubectl apply -f dist/bootstrap/` (after restoring the
 * controller's key, or sealing once it made one).
 */
export function sealedSecretsPlatform(options: SealedSecretsPlatformOptions = {}): GitOpsPlatform {
  return {
    namespace: options.namespace ?? 'sealed-secrets',
    clusterResources: [
      { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
    ],
    // The controller's keys: made by it, restored by hand, never in git.
    unmanagedResources: [{ kind: 'Secret', name: 'sealed-secrets-key*' }],
    stack: (chart, lock) => {
      new SealedSecretsController(chart, 'sealed-secrets', {
        ...options,
        image: ContainerImage.fromLock(lock, options.imageName ?? 'sealed-secrets-controller'),
      });
    },
  };
}

/** Props of {@link PlatformApplication}. */
export interface PlatformApplicationProps {
  /** Repository name: the AppProject and Application are `<name>-platform`. */
  readonly name: string;
  /** Git URL of the repository. */
  readonly repoUrl: string;
  /** Branch, tag or commit to sync. */
  readonly targetRevision: string;
  /** Directory of the tree inside the repository. */
  readonly manifestsPath: string;
  /** Namespace Argo CD runs in. */
  readonly argoCdNamespace: string;
  /** The platform part. */
  readonly platform: GitOpsPlatform;
}

/** The platform's AppProject and Application, in `apps/` beside the environments'. */
export class PlatformApplication extends Construct {
  constructor(scope: Construct, id: string, props: PlatformApplicationProps) {
    super(scope, id);
    const name = `${props.name}-${PLATFORM_DIRECTORY}`;
    const project = new ArgoCdProject(this, name, {
      argoCdNamespace: props.argoCdNamespace,
      description: `What every environment of ${props.name} needs first`,
      sourceRepos: [props.repoUrl],
      destinations: [{ namespace: props.platform.namespace }],
      clusterResources: props.platform.clusterResources,
      unmanagedResources: props.platform.unmanagedResources,
    });
    new ArgoCdApplication(this, 'Application', {
      name,
      project,
      argoCdNamespace: props.argoCdNamespace,
      repoUrl: props.repoUrl,
      targetRevision: props.targetRevision,
      path: `${props.manifestsPath}/${PLATFORM_DIRECTORY}`,
      destinationNamespace: props.platform.namespace,
      syncWave: PLATFORM_SYNC_WAVE,
    });
  }
}
