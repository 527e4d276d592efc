import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdApplication } from '../argocd/application';
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
}

/** The AppProject and one Application per environment: what the root app syncs. */
export class ApplicationsChart extends Chart {
  constructor(scope: Construct, id: string, props: ApplicationsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const project = new ArgoCdProject(this, props.name, {
      argoCdNamespace: props.argoCdNamespace,
      description: props.description,
      sourceRepos: [props.repoUrl],
      destinations: props.environments.map(e => ({ namespace: e.namespace, server: e.server })),
    });
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
