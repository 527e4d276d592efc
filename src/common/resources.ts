import { k8s } from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { checkQuantity } from './checks';

/**
 * CPU and memory for one container. Requests are what the scheduler
 * reserves; limits are where the kubelet throttles (CPU) or kills (memory).
 */
export interface ComputeResources {
  /** CPU reserved, e.g. `100m`. */
  readonly cpuRequest: string;
  /** Memory reserved, e.g. `128Mi`. */
  readonly memoryRequest: string;
  /** CPU ceiling, e.g. `500m`. */
  readonly cpuLimit: string;
  /** Memory ceiling, e.g. `256Mi`; exceeding it gets the container OOM-killed. */
  readonly memoryLimit: string;
}

/** Validates `resources` and renders them as a container's `resources`. */
export function renderResources(scope: IConstruct, what: string, resources: ComputeResources): k8s.ResourceRequirements {
  const q = (field: keyof ComputeResources) => k8s.Quantity.fromString(checkQuantity(scope, `${what}.${field}`, resources[field]));
  return {
    requests: { cpu: q('cpuRequest'), memory: q('memoryRequest') },
    limits: { cpu: q('cpuLimit'), memory: q('memoryLimit') },
  };
}
