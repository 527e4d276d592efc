import { Construct } from 'constructs';
import { k8s } from './k8s';
import { KubeServiceAccount } from './kube-objects';

/**
 * A ServiceAccount of its own for a workload, with no API token mounted:
 * neither the Go service nor Postgres talks to the Kubernetes API, so a
 * stolen token would only be a liability.
 */
export function createServiceAccount(scope: Construct, name: string, labels: Record<string, string>): k8s.KubeServiceAccount {
  return new KubeServiceAccount(scope, 'ServiceAccount', {
    metadata: { name, labels },
    automountServiceAccountToken: false,
  });
}
