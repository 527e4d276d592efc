import { k8s } from 'cdk8s-plus-27';

/**
 * Egress to the cluster DNS: any pod in kube-system on port 53. Selecting by
 * namespace only, because DNS pods are labelled differently across distributions.
 */
export const DNS_EGRESS: k8s.NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
  ports: [
    { port: k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
    { port: k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
  ],
};

/** Egress to the pods selected by `labels` on one TCP port. */
export function egressToPods(labels: Record<string, string>, port: number): k8s.NetworkPolicyEgressRule {
  return { to: [{ podSelector: { matchLabels: labels } }], ports: [{ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }] };
}
