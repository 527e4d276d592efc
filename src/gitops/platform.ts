import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdApplication } from '../argocd/application';
import { ArgoCdProject } from '../argocd/project';
import { setSyncWave } from '../common/labels';
import { ComputeResources } from '../common/resources';
import { ContainerImage } from '../images/container-image';
import { ImageLock } from '../images/image-lock';
import { CLOUDNATIVE_PG_NAMESPACE, CLOUDNATIVE_PG_WEBHOOK_SECRET, CloudNativePgOperator, CloudNativePgOperatorProps } from '../postgres/cloudnative-pg-operator';
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
  /**
   * Further namespaces the platform's objects live in, which its AppProject
   * allows; the platform's own Namespace objects create them.
   * @default - none
   */
  readonly namespaces?: ReadonlyArray<string>;
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

/** Options of {@link cloudNativePgPlatform}. */
export interface CloudNativePgPlatformOptions extends Omit<CloudNativePgOperatorProps, 'image' | 'barmanCloudPlugin'> {
  /**
   * Name of the operator image in the image lock.
   * @default 'cloudnative-pg'
   */
  readonly imageName?: string;
  /**
   * Run the Barman Cloud plugin beside the operator (see
   * `CloudNativePgOperatorProps.barmanCloudPlugin`), its image from the lock.
   * @default - no plugin
   */
  readonly barmanCloudPlugin?: { readonly imageName?: string; readonly resources?: ComputeResources };
}

/**
 * The CloudNativePG operator as a platform part, so that environments can
 * run `PostgresCluster`s: its CRDs, RBAC, webhooks and Deployment in its own
 * namespace (`cnpg-system`), synced before the environments.
 */
export function cloudNativePgPlatform(options: CloudNativePgPlatformOptions = {}): GitOpsPlatform {
  const namespace = options.namespace ?? CLOUDNATIVE_PG_NAMESPACE;
  return {
    namespace,
    clusterResources: [
      { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
      { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
      { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
    ],
    // The webhook certificate: the operator makes it at start and renews it.
    unmanagedResources: [{ kind: 'Secret', name: CLOUDNATIVE_PG_WEBHOOK_SECRET }],
    stack: (chart, lock) => {
      new CloudNativePgOperator(chart, 'cloudnative-pg', {
        ...options,
        namespace,
        image: ContainerImage.fromLock(lock, options.imageName ?? 'cloudnative-pg'),
        barmanCloudPlugin: options.barmanCloudPlugin && {
          resources: options.barmanCloudPlugin.resources,
          image: ContainerImage.fromLock(lock, options.barmanCloudPlugin.imageName ?? 'plugin-barman-cloud'),
        },
      });
    },
  };
}

/**
 * Several platform parts synced as one, in order: the first one's namespace
 * is the Application's destination, every other one's namespace is created
 * by the part itself (its Namespace object) and allowed by the AppProject.
 */
export function combinePlatforms(first: GitOpsPlatform, ...rest: GitOpsPlatform[]): GitOpsPlatform {
  const parts = [first, ...rest];
  const unique = <T>(items: T[], key: (item: T) => string) => [...new Map(items.map(i => [key(i), i])).values()];
  return {
    namespace: first.namespace,
    namespaces: unique(parts.flatMap(p => [p.namespace, ...(p.namespaces ?? [])]), n => n).filter(n => n !== first.namespace),
    clusterResources: unique(parts.flatMap(p => p.clusterResources), r => `${r.group}/${r.kind}`),
    unmanagedResources: unique(parts.flatMap(p => p.unmanagedResources ?? []), r => `${r.group ?? ''}/${r.kind}/${r.name}`),
    stack: (chart, lock) => parts.forEach(p => p.stack(chart, lock)),
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
      destinations: [props.platform.namespace, ...(props.platform.namespaces ?? [])].map(namespace => ({ namespace })),
      clusterResources: props.platform.clusterResources,
      unmanagedResources: props.platform.unmanagedResources,
    });
    // A wave before its Application: Argo CD reconciles an Application as soon as it exists, and one
    // whose project is not there yet waits for its next refresh (41 s in test/e2e/cloudnative-pg.ts).
    setSyncWave(project, PLATFORM_SYNC_WAVE - 1);
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
