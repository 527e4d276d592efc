import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/** The annotation Argo CD orders a sync by: lower waves are applied and healthy first. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

/** Marks an object that may only exist in dev, such as a Secret with a committed password; the diff's danger rules spare it. */
export const DEV_ONLY_LABEL = 'acme.io/dev-only';

/** The label a GitOpsRepository puts on every object of an environment, valued with its name, unless told otherwise. */
export const DEFAULT_ENVIRONMENT_LABEL = 'acme.io/environment';

/**
 * The recommended `app.kubernetes.io/*` labels of one component.
 * See https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */
export interface ComponentLabels {
  /** `app.kubernetes.io/name`. */
  readonly name: string;
  /** `app.kubernetes.io/component`, e.g. `web` or `database`. */
  readonly component: string;
  /**
   * `app.kubernetes.io/part-of`.
   * @default - omitted
   */
  readonly partOf?: string;
}

/** Labels that select a component's pods; they never change over its life. */
export function selectorLabels(labels: ComponentLabels): Record<string, string> {
  return {
    'app.kubernetes.io/name': labels.name,
    'app.kubernetes.io/component': labels.component,
  };
}

/** All labels put on a component's objects and pods. */
export function objectLabels(labels: ComponentLabels): Record<string, string> {
  return {
    ...selectorLabels(labels),
    ...(labels.partOf ? { 'app.kubernetes.io/part-of': labels.partOf } : {}),
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}

/** Puts the Argo CD sync wave on every Kubernetes object below `scope`. */
export function setSyncWave(scope: IConstruct, wave: number): void {
  for (const child of scope.node.findAll()) {
    if (child instanceof ApiObject) {
      child.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, String(wave));
    }
  }
}
