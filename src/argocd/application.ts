import { Construct } from 'constructs';
import { ArgoCdProject, IArgoCdProject } from './project';
import { checkRepoPath, checkRepoUrl, IN_CLUSTER } from './sources';
import { Application } from '../../imports/argocd-application-argoproj.io';
import { checkDnsLabel, checkInteger } from '../common/checks';
import { SYNC_WAVE_ANNOTATION } from '../common/labels';
import { ValidationError } from '../common/validation-error';

/** Finalizer that makes deleting an Application delete what it deployed. */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** Props of {@link ArgoCdApplication}. */
export interface ArgoCdApplicationProps {
  /**
   * Application name.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Namespace Argo CD runs in.
   * @default 'argocd'
   */
  readonly argoCdNamespace?: string;
  /**
   * Project the Application belongs to.
   * @default - Argo CD's built-in `default` project
   */
  readonly project?: IArgoCdProject;
  /** Git repository holding the manifests. */
  readonly repoUrl: string;
  /**
   * Branch, tag or commit to sync.
   * @default 'main'
   */
  readonly targetRevision?: string;
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
   * Create the destination namespace when it is missing.
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Labels for the namespace Argo CD creates.
   * @default - Pod Security "restricted" enforced, audited and warned
   */
  readonly namespaceLabels?: Record<string, string>;
  /**
   * Sync automatically, pruning deleted objects and reverting drift.
   * @default true
   */
  readonly automatedSync?: boolean;
  /**
   * Sync attempts before giving up; backoff doubles from 5s up to 3m, and each
   * retry syncs the newest revision.
   * @default 5
   */
  readonly retryLimit?: number;
  /**
   * Sync wave of the Application itself, for app-of-apps ordering.
   * @default - none
   */
  readonly syncWave?: number;
}

/** Pod Security "restricted" at every mode, for namespaces Argo CD creates. */
export const RESTRICTED_NAMESPACE_LABELS: Record<string, string> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};

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
    const targetRevision = props.targetRevision ?? 'main';
    if (targetRevision.trim() === '') ValidationError.fail(this, 'targetRevision is empty: name a branch, tag or commit');
    const retryLimit = checkInteger(this, 'retryLimit', props.retryLimit ?? 5, 0, 100);
    const project = props.project ?? ArgoCdProject.fromName('default');
    const createNamespace = props.createNamespace ?? true;
    new Application(this, 'Resource', {
      metadata: {
        name: this.applicationName,
        namespace: checkDnsLabel(this, 'argoCdNamespace', props.argoCdNamespace ?? 'argocd'),
        finalizers: [RESOURCES_FINALIZER],
        ...(props.syncWave !== undefined ? { annotations: { [SYNC_WAVE_ANNOTATION]: String(checkInteger(this, 'syncWave', props.syncWave, -100, 100)) } } : {}),
      },
      spec: {
        project: project.projectName,
        source: {
          repoUrl: checkRepoUrl(this, props.repoUrl),
          targetRevision,
          // A plain directory, not recursed: Argo CD's default, left out because Argo CD strips a
          // `directory: {recurse: false}` it is given, which keeps an app-of-apps root OutOfSync forever.
          path: checkRepoPath(this, props.path),
        },
        destination: {
          server: props.destinationServer ?? IN_CLUSTER,
          namespace: checkDnsLabel(this, 'destinationNamespace', props.destinationNamespace),
        },
        syncPolicy: {
          ...(props.automatedSync ?? true ? { automated: { prune: true, selfHeal: true } } : {}),
          syncOptions: [...(createNamespace ? ['CreateNamespace=true'] : []), 'ServerSideApply=true', 'PruneLast=true'],
          ...(createNamespace ? { managedNamespaceMetadata: { labels: props.namespaceLabels ?? RESTRICTED_NAMESPACE_LABELS } } : {}),
          // refresh: a retry takes the newest revision, so a fix committed after a failed sync is
          // applied at once instead of after the failed revision's retries run out.
          retry: { limit: retryLimit, refresh: true, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
        },
        revisionHistoryLimit: 10,
      },
    });
  }
}
