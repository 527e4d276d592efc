import { Construct } from 'constructs';
import { checkRepoUrl, IN_CLUSTER } from './sources';
import { AppProject } from '../../imports/argocd-appproject-argoproj.io';
import { checkDnsLabel, checkDnsSubdomain } from '../common/checks';
import { ValidationError } from '../common/validation-error';

/** An Argo CD project that Applications belong to. */
export interface IArgoCdProject {
  /** The AppProject's name. */
  readonly projectName: string;
}

/** A namespace on a cluster that a project may deploy to. */
export interface ProjectDestination {
  /**
   * API server URL.
   * @default 'https://kubernetes.default.svc' (the cluster Argo CD runs in)
   */
  readonly server?: string;
  /** Namespace. */
  readonly namespace: string;
}

/** An object Argo CD finds in a destination namespace but not in git, identified by kind and name. */
export interface UnmanagedResource {
  /**
   * API group; '' for the core group.
   * @default ''
   */
  readonly group?: string;
  /** Kind, such as `Secret`. */
  readonly kind: string;
  /** Name; Argo CD accepts a glob such as `db-*`. */
  readonly name: string;
}

/** Props of {@link ArgoCdProject}. */
export interface ArgoCdProjectProps {
  /**
   * AppProject name.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Namespace Argo CD runs in.
   * @default 'argocd'
   */
  readonly argoCdNamespace?: string;
  /**
   * What the project is for.
   * @default - none
   */
  readonly description?: string;
  /** Git repositories Applications of this project may sync from. */
  readonly sourceRepos: string[];
  /** Namespaces Applications of this project may deploy to. */
  readonly destinations: ProjectDestination[];
  /**
   * Objects kept out of git on purpose, such as Secrets created by hand:
   * Argo CD warns about every other object in the destination namespaces
   * that no Application deploys (an OrphanedResourceWarning).
   * @default - none: every object not in git is reported
   */
  readonly unmanagedResources?: ReadonlyArray<UnmanagedResource>;
  /**
   * Cluster-scoped kinds the project may create, besides namespaces (a
   * platform part: CustomResourceDefinitions, ClusterRoles, ...).
   * @default - only Namespace
   */
  readonly clusterResources?: ReadonlyArray<{ readonly group: string; readonly kind: string }>;
}

/**
 * An Argo CD AppProject that fences its Applications in: only the listed
 * repositories and namespaces, and of cluster-scoped kinds only Namespace
 * (so CreateNamespace works). Objects in its namespaces that are not in git
 * are reported as orphaned, except the `unmanagedResources`.
 */
export class ArgoCdProject extends Construct implements IArgoCdProject {
  /** A project defined elsewhere, such as Argo CD's built-in `default`. */
  public static fromName(projectName: string): IArgoCdProject {
    return { projectName };
  }

  public readonly projectName: string;

  constructor(scope: Construct, id: string, props: ArgoCdProjectProps) {
    super(scope, id);
    this.projectName = checkDnsSubdomain(this, 'name', props.name ?? id);
    if (props.sourceRepos.length === 0) ValidationError.fail(this, 'sourceRepos is empty: list the git repositories the project may sync from');
    if (props.destinations.length === 0) ValidationError.fail(this, 'destinations is empty: list the namespaces the project may deploy to');
    new AppProject(this, 'Resource', {
      metadata: { name: this.projectName, namespace: checkDnsLabel(this, 'argoCdNamespace', props.argoCdNamespace ?? 'argocd') },
      spec: {
        ...(props.description ? { description: props.description } : {}),
        sourceRepos: props.sourceRepos.map(r => checkRepoUrl(this, r)),
        destinations: props.destinations.map(d => ({
          server: d.server ?? IN_CLUSTER,
          namespace: checkDnsLabel(this, 'destinations.namespace', d.namespace),
        })),
        clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }, ...(props.clusterResources ?? []).map(r => ({ group: r.group, kind: r.kind }))],
        orphanedResources: {
          warn: true,
          ...(props.unmanagedResources?.length
            ? { ignore: props.unmanagedResources.map(r => ({ group: r.group ?? '', kind: r.kind, name: r.name })) }
            : {}),
        },
      },
    });
  }
}
