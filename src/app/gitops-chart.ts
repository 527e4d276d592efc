import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EnvironmentConfig, GITOPS } from './environments';
import { ArgoCdApplication, ArgoCdProject } from '..';

/** Props of {@link ApplicationsChart}. */
export interface ApplicationsChartProps {
  /** Environments that get an Application each. */
  readonly environments: EnvironmentConfig[];
}

/** The AppProject and one Application per environment: what the root app syncs. */
export class ApplicationsChart extends Chart {
  constructor(scope: Construct, id: string, props: ApplicationsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const project = new ArgoCdProject(this, 'todo', {
      argoCdNamespace: GITOPS.argoCdNamespace,
      description: 'The todo service in every environment',
      sourceRepos: [GITOPS.repoUrl],
      destinations: props.environments.map(e => ({ namespace: e.namespace })),
    });
    for (const env of props.environments) {
      new ArgoCdApplication(this, `todo-${env.name}`, {
        project,
        argoCdNamespace: GITOPS.argoCdNamespace,
        repoUrl: GITOPS.repoUrl,
        targetRevision: GITOPS.targetRevision,
        path: `${GITOPS.distPath}/${env.name}`,
        destinationNamespace: env.namespace,
      });
    }
  }
}

/** The app-of-apps root Application, applied once by hand to bootstrap a cluster. */
export class BootstrapChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    new ArgoCdApplication(this, 'todo-root', {
      argoCdNamespace: GITOPS.argoCdNamespace,
      repoUrl: GITOPS.repoUrl,
      targetRevision: GITOPS.targetRevision,
      path: `${GITOPS.distPath}/apps`,
      destinationNamespace: GITOPS.argoCdNamespace,
      createNamespace: false,
    });
  }
}
