import { Construct } from 'constructs';
import { checkInteger } from './checks';
import { k8s } from './k8s';
import { KubePodDisruptionBudget } from './kube-objects';
import { ValidationError } from './validation-error';

/**
 * How many of a workload's pods a voluntary disruption (a node drain) may take
 * down at once. Set exactly one of the two fields.
 */
export interface DisruptionBudget {
  /**
   * Pods that may be unavailable at once.
   * @default - unset
   */
  readonly maxUnavailable?: number;
  /**
   * Pods that must stay available.
   * @default - unset
   */
  readonly minAvailable?: number;
}

/** Props of {@link PodDisruptionBudget}. */
export interface PodDisruptionBudgetProps {
  /** Object name. */
  readonly name: string;
  /** Labels on the budget. */
  readonly labels: Record<string, string>;
  /** Labels that select the protected pods. */
  readonly selector: Record<string, string>;
  /** The budget. */
  readonly budget: DisruptionBudget;
}

/** A policy/v1 PodDisruptionBudget with its input checked. */
export class PodDisruptionBudget extends Construct {
  constructor(scope: Construct, id: string, props: PodDisruptionBudgetProps) {
    super(scope, id);
    const { maxUnavailable, minAvailable } = props.budget;
    if ((maxUnavailable === undefined) === (minAvailable === undefined)) {
      ValidationError.fail(this, `set exactly one of maxUnavailable and minAvailable, got ${JSON.stringify(props.budget)}`);
    }
    new KubePodDisruptionBudget(this, 'Resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        selector: { matchLabels: props.selector },
        ...(maxUnavailable !== undefined ? { maxUnavailable: k8s.IntOrString.fromNumber(checkInteger(this, 'maxUnavailable', maxUnavailable, 0)) } : {}),
        ...(minAvailable !== undefined ? { minAvailable: k8s.IntOrString.fromNumber(checkInteger(this, 'minAvailable', minAvailable, 0)) } : {}),
      },
    });
  }
}
