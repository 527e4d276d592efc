import { Construct } from 'constructs';
import { checkInteger } from '../common/checks';
import { k8s } from '../common/k8s';
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
}

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
  return new k8s.KubeHorizontalPodAutoscalerV2(scope, 'Autoscaler', {
    metadata: { name: props.name, labels: props.labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.deploymentName },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
    },
  });
}
