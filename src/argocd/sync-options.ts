import { IConstruct } from 'constructs';
import { ArgoCdProject, IArgoCdProject } from './project';
import { checkRepoUrl } from './sources';
import { ApplicationSpec } from '../../imports/argocd-application-argoproj.io';
import { checkInteger } from '../common/checks';
import { ValidationError } from '../common/validation-error';

/** How Argo CD syncs an Application: shared by `ArgoCdApplication` and `ArgoCdApplicationSet`. */
export interface ArgoCdSyncOptions {
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
}

/** Pod Security "restricted" at every mode, for namespaces Argo CD creates. */
export const RESTRICTED_NAMESPACE_LABELS: Record<string, string> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};

/** What one Application syncs: a directory of the repository into a namespace of a cluster. */
export interface ApplicationTarget {
  /** Directory of plain manifests, relative to the repository root. */
  readonly path: string;
  /** API server to deploy to. */
  readonly server: string;
  /** Namespace to deploy to. */
  readonly namespace: string;
}

/**
 * The spec of an `ArgoCdApplication`, and of each Application an
 * `ArgoCdApplicationSet` generates: automated sync with prune and
 * self-heal, CreateNamespace with `namespaceLabels`, server-side apply, retry
 * with backoff. Validates `options`; `target` is the caller's to validate
 * (an ApplicationSet's holds template expressions).
 */
export function applicationSpec(scope: IConstruct, options: ArgoCdSyncOptions, target: ApplicationTarget): ApplicationSpec {
  const targetRevision = options.targetRevision ?? 'main';
  if (targetRevision.trim() === '') ValidationError.fail(scope, 'targetRevision is empty: name a branch, tag or commit');
  const retryLimit = checkInteger(scope, 'retryLimit', options.retryLimit ?? 5, 0, 100);
  const createNamespace = options.createNamespace ?? true;
  return {
    project: (options.project ?? ArgoCdProject.fromName('default')).projectName,
    source: {
      repoUrl: checkRepoUrl(scope, options.repoUrl),
      targetRevision,
      // A plain directory, not recursed: Argo CD's default, left out because Argo CD strips a
      // `directory: {recurse: false}` it is given, which keeps an app-of-apps root OutOfSync forever.
      path: target.path,
    },
    destination: { server: target.server, namespace: target.namespace },
    syncPolicy: {
      ...(options.automatedSync ?? true ? { automated: { prune: true, selfHeal: true } } : {}),
      syncOptions: [...(createNamespace ? ['CreateNamespace=true'] : []), 'ServerSideApply=true', 'PruneLast=true'],
      ...(createNamespace ? { managedNamespaceMetadata: { labels: options.namespaceLabels ?? RESTRICTED_NAMESPACE_LABELS } } : {}),
      // refresh: a retry takes the newest revision, so a fix committed after a failed sync is
      // applied at once instead of after the failed revision's retries run out.
      retry: { limit: retryLimit, refresh: true, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
    },
    revisionHistoryLimit: 10,
  };
}
