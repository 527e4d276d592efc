import { Construct } from 'constructs';
import { checkRepoPath, IN_CLUSTER } from './sources';
import { applicationSpec, ArgoCdSyncOptions } from './sync-options';
import { Application } from '../../imports/argocd-application-argoproj.io';
import { checkDnsLabel, checkInteger } from '../common/checks';
import { SYNC_WAVE_ANNOTATION } from '../common/labels';

/**
 * Finalizer that makes deleting an Application delete what it deployed, in
 * the foreground: Argo CD's `resources-finalizer.argocd.argoproj.io` with the
 * path Kubernetes 1.37 asks for (it warns about finalizer names without one).
 */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io/foreground';

/** Props of {@link ArgoCdApplication}. */
export interface ArgoCdApplicationProps extends ArgoCdSyncOptions {
  /**
   * Application name.
   * @default - the construct id
   */
  readonly name?: string;
  /** Directory of plain manifests, relative to the repository root (e.g. `dist/prod`). */
  readonly path: string;
  /**
   * API server to deploy to.
   * @default 'https://kubernetes.default.svc'
   */
  readonly destinationServer?: string;
  /** Namespace to deploy to; created by the sync when missing. */
  readonly destinationNamespace: string;
  /**
   * Sync wave of the Application itself, for app-of-apps ordering.
   * @default - none
   */
  readonly syncWave?: number;
}

/**
 * An Argo CD Application that syncs a directory of plain manifests with the
 * settings a GitOps tree needs: automated sync with prune and self-heal,
 * CreateNamespace, server-side apply, retry with backoff and the resources
 * finalizer.
 */
export class ArgoCdApplication extends Construct {
  /** The Application's name. */
  public readonly applicationName: string;

  constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, id);
    this.applicationName = checkDnsLabel(this, 'name', props.name ?? id);
    new Application(this, 'Resource', {
      metadata: {
        name: this.applicationName,
        namespace: checkDnsLabel(this, 'argoCdNamespace', props.argoCdNamespace ?? 'argocd'),
        finalizers: [RESOURCES_FINALIZER],
        ...(props.syncWave !== undefined ? { annotations: { [SYNC_WAVE_ANNOTATION]: String(checkInteger(this, 'syncWave', props.syncWave, -100, 100)) } } : {}),
      },
      spec: applicationSpec(this, props, {
        path: checkRepoPath(this, props.path),
        server: props.destinationServer ?? IN_CLUSTER,
        namespace: checkDnsLabel(this, 'destinationNamespace', props.destinationNamespace),
      }),
    });
  }
}
