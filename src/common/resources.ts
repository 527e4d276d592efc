import { IConstruct } from 'constructs';
import { checkQuantity } from './checks';
import { k8s } from './k8s';

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
  /**
   * Local disk for container logs and disk-backed emptyDirs, both requested
   * and limited, so one pod cannot fill a node's disk.
   * @default - chosen by each construct for its workload
   */
  readonly ephemeralStorage?: string;
}

/** Validates `resources` and renders them as a container's `resources`. */
export function renderResources(
  scope: IConstruct, what: string, resources: ComputeResources, defaultEphemeralStorage: string,
): k8s.ResourceRequirements {
  const q = (field: keyof ComputeResources, value = resources[field]!) => k8s.Quantity.fromString(checkQuantity(scope, `${what}.${field}`, value));
  const disk = q('ephemeralStorage', resources.ephemeralStorage ?? defaultEphemeralStorage);
  return {
    requests: { 'cpu': q('cpuRequest'), 'memory': q('memoryRequest'), 'ephemeral-storage': disk },
    limits: { 'cpu': q('cpuLimit'), 'memory': q('memoryLimit'), 'ephemeral-storage': disk },
  };
}
