import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdApplication } from '../argocd/application';
import { ArgoCdApplicationSet, FleetClusters } from '../argocd/application-set';
import { ArgoCdProject } from '../argocd/project';

/** Where Argo CD finds the synthesized tree. */
export interface ArgoCdSource {
  /** What is deployed: the AppProject's name and the Applications' prefix. */
  readonly name: string;
  /** Git URL of the repository. */
  readonly repoUrl: string;
  /** Branch, tag or commit to sync. */
  readonly targetRevision: string;
  /** Directory of the tree inside the repository. */
  readonly manifestsPath: string;
  /** Namespace Argo CD runs in. */
  readonly argoCdNamespace: string;
}

/** Props of {@link ApplicationsChart}. */
export interface ApplicationsChartProps extends ArgoCdSource {
  /** Description of the AppProject. */
  readonly description: string;
  /** Environments that get an Application each. */
  readonly environments: ReadonlyArray<{ readonly name: string; readonly namespace: string; readonly server?: string }>;
  /**
   * Secrets the environments use but leave out of git: not reported as orphaned.
   * @default - none
   */
  readonly outOfBandSecrets?: ReadonlyArray<string>;
  /**
   * Clusters that run the environments, through one ApplicationSet.
   * @default - one Application per environment, to its server
   */
  readonly clusters?: FleetClusters;
}

/** The AppProject and one Application per environment, or one ApplicationSet for all: what the root app syncs. */
export class ApplicationsChart extends Chart {
  constructor(scope: Construct, id: string, props: ApplicationsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const project = new ArgoCdProject(this, props.name, {
      argoCdNamespace: props.argoCdNamespace,
      description: props.description,
      sourceRepos: [props.repoUrl],
      // A fleet's clusters are whichever the ApplicationSet selects, so any server, only these namespaces.
      destinations: props.environments.map(e => ({ namespace: e.namespace, server: props.clusters ? '*' : e.server })),
      unmanagedResources: (props.outOfBandSecrets ?? []).map(name => ({ kind: 'Secret', name })),
    });
    if (props.clusters) {
      new ArgoCdApplicationSet(this, `${props.name}-fleet`, {
        name: props.name,
        project,
        argoCdNamespace: props.argoCdNamespace,
        repoUrl: props.repoUrl,
        targetRevision: props.targetRevision,
        environments: props.environments.map(e => ({ name: e.name, path: `${props.manifestsPath}/${e.name}`, namespace: e.namespace })),
        clusters: props.clusters,
      });
      return;
    }
    for (const env of props.environments) {
      new ArgoCdApplication(this, `${props.name}-${env.name}`, {
        project,
        argoCdNamespace: props.argoCdNamespace,
        repoUrl: props.repoUrl,
        targetRevision: props.targetRevision,
        path: `${props.manifestsPath}/${env.name}`,
        destinationServer: env.server,
        destinationNamespace: env.namespace,
      });
    }
  }
}

/** The app-of-apps root Application, applied once by hand to bootstrap a cluster. */
export class BootstrapChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgoCdSource) {
    super(scope, id, { disableResourceNameHashes: true });
    new ArgoCdApplication(this, `${props.name}-root`, {
      argoCdNamespace: props.argoCdNamespace,
      repoUrl: props.repoUrl,
      targetRevision: props.targetRevision,
      path: `${props.manifestsPath}/apps`,
      destinationNamespace: props.argoCdNamespace,
      createNamespace: false,
    });
  }
}
