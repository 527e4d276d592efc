import { Construct } from 'constructs';
import { checkInteger } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeHorizontalPodAutoscalerV2 } from '../common/kube-objects';
import { ValidationError } from '../common/validation-error';

/** A HorizontalPodAutoscaler driven by CPU utilization. */
export interface HorizontalAutoscaling {
  /** Fewest pods. */
  readonly minReplicas: number;
  /** Most pods. */
  readonly maxReplicas: number;
  /**
   * Average CPU utilization, as a percentage of the request, to scale at.
   * @default 70
   */
  readonly targetCpuUtilization?: number;
  /**
   * Seconds the autoscaler looks back before it removes pods: it scales in
   * only to the highest recommendation of that window, so a short dip in load
   * does not remove pods that are needed again a minute later. Lower it to
   * give back idle pods sooner; 0 scales in as soon as the load drops.
   * @default - Kubernetes' default, 300 s (no `behavior` is rendered)
   */
  readonly scaleDownStabilizationSeconds?: number;
  /**
   * Seconds the autoscaler looks back before it adds pods: it scales out only
   * to the lowest recommendation of that window. Raise it to ignore short
   * spikes of load.
   * @default - Kubernetes' default, 0 s: scale out at once (no `behavior` is rendered)
   */
  readonly scaleUpStabilizationSeconds?: number;
}

/** The HPA's limit on a stabilization window (autoscaling/v2 validation). */
const MAX_STABILIZATION_SECONDS = 3600;

/** Renders an autoscaling/v2 HorizontalPodAutoscaler for a Deployment. */
export function renderAutoscaler(scope: Construct, props: {
  name: string;
  labels: Record<string, string>;
  deploymentName: string;
  autoscaling: HorizontalAutoscaling;
}): k8s.KubeHorizontalPodAutoscalerV2 {
  const a = props.autoscaling;
  const min = checkInteger(scope, 'autoscaling.minReplicas', a.minReplicas, 1, 1000);
  const max = checkInteger(scope, 'autoscaling.maxReplicas', a.maxReplicas, 1, 1000);
  if (max < min) ValidationError.fail(scope, `autoscaling.maxReplicas ${max} is below minReplicas ${min}`);
  const target = checkInteger(scope, 'autoscaling.targetCpuUtilization', a.targetCpuUtilization ?? 70, 1, 100);
  const window = (what: 'scaleDown' | 'scaleUp', seconds: number | undefined) => seconds === undefined ? undefined
    : { stabilizationWindowSeconds: checkInteger(scope, `autoscaling.${what}StabilizationSeconds`, seconds, 0, MAX_STABILIZATION_SECONDS) };
  const scaleDown = window('scaleDown', a.scaleDownStabilizationSeconds);
  const scaleUp = window('scaleUp', a.scaleUpStabilizationSeconds);
  return new KubeHorizontalPodAutoscalerV2(scope, 'Autoscaler', {
    metadata: { name: props.name, labels: props.labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.deploymentName },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
      // Only the windows that were set: without them the HPA keeps Kubernetes' defaults and the manifest stays as before.
      ...(scaleDown || scaleUp ? { behavior: { scaleDown, scaleUp } } : {}),
    },
  });
}
