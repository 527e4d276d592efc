import { IConstruct } from 'constructs';
import { checkDnsLabel } from './checks';
import { k8s } from './k8s';
import { ValidationError } from './validation-error';

/** The label the API server sets on every namespace (since 1.22) to its name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const CIDR = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)\/[0-9]{1,3}$/;

function validPrefix(cidr: string): boolean {
  const [address, prefix] = cidr.split('/');
  const ipv4 = address.includes('.') && !address.includes(':');
  if (ipv4 && address.split('.').some(octet => Number(octet) > 255)) return false;
  return Number(prefix) <= (ipv4 ? 32 : 128);
}

/**
 * The other end of a NetworkPolicy rule: the pods allowed to connect.
 *
 * Namespaces are selected by their `kubernetes.io/metadata.name` label, which
 * the API server maintains itself, so no namespace needs labelling by hand.
 */
export class NetworkPeer {
  /** Every pod of the namespace `name`, e.g. `ingress-nginx` or `monitoring`. */
  public static namespace(name: string): NetworkPeer {
    return new NetworkPeer(undefined, name);
  }

  /**
   * The pods carrying all of `labels`.
   * @param labels labels the pods carry; at least one
   * @param namespace namespace of the pods; omit it for the policy's own namespace
   */
  public static pods(labels: Record<string, string>, namespace?: string): NetworkPeer {
    return new NetworkPeer({ ...labels }, namespace);
  }

  /** Every pod of the policy's own namespace. */
  public static sameNamespace(): NetworkPeer {
    return new NetworkPeer(undefined, undefined);
  }

  /**
   * Addresses outside the cluster's pods, such as a managed database's subnet.
   * @param cidr an IPv4 or IPv6 range, e.g. `10.20.0.0/16` or `10.20.1.5/32`
   */
  public static ipBlock(cidr: string): NetworkPeer {
    return new NetworkPeer(undefined, undefined, cidr);
  }

  private constructor(
    private readonly podLabels: Record<string, string> | undefined,
    private readonly namespaceName: string | undefined,
    private readonly cidr?: string,
  ) {}

  /**
   * The peer as rendered into a NetworkPolicy of `scope`; bad input fails
   * with the path of `scope`, the construct the peer was given to.
   * @internal
   */
  public bind(scope: IConstruct): k8s.NetworkPolicyPeer {
    if (this.cidr !== undefined) {
      if (!CIDR.test(this.cidr) || !validPrefix(this.cidr)) {
        ValidationError.fail(scope, `NetworkPeer.ipBlock("${this.cidr}") is not an address range: write it as an IPv4 or IPv6 CIDR such as "10.20.0.0/16"`);
      }
      return { ipBlock: { cidr: this.cidr } };
    }
    if (this.podLabels && Object.keys(this.podLabels).length === 0) {
      // Kubernetes reads an empty selector as "all pods", which is rarely what an empty label map meant.
      ValidationError.fail(scope, 'NetworkPeer.pods({}) has no labels and would select every pod: pass the labels of the client pods, '
        + 'or use NetworkPeer.sameNamespace() or NetworkPeer.namespace() to admit whole namespaces');
    }
    const namespace = this.namespaceName === undefined ? undefined : checkDnsLabel(scope, 'NetworkPeer namespace', this.namespaceName);
    return {
      ...(namespace !== undefined ? { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } } : {}),
      // A peer without a namespace selector means the policy's own namespace; an empty pod selector, all of its pods.
      ...(this.podLabels ? { podSelector: { matchLabels: { ...this.podLabels } } } : namespace === undefined ? { podSelector: {} } : {}),
    };
  }
}

/**
 * Egress to the cluster DNS: any pod in kube-system on port 53. Selecting by
 * namespace only, because DNS pods are labelled differently across distributions.
 */
export const DNS_EGRESS: k8s.NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } } }],
  ports: [
    { port: k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
    { port: k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
  ],
};

/** Egress to `peer` (bound) on one port. */
export function egressTo(peer: k8s.NetworkPolicyPeer, port: number, protocol: NetworkProtocol = 'TCP'): k8s.NetworkPolicyEgressRule {
  return { to: [peer], ports: [{ port: k8s.IntOrString.fromNumber(port), protocol }] };
}

/** The transport protocol of a NetworkPolicy port. */
export type NetworkProtocol = 'TCP' | 'UDP' | 'SCTP';

/**
 * Ingress from `peers` to one TCP port. Callers pass at least one peer: the
 * API server drops an empty list, and a rule without peers admits everyone.
 */
export function ingressFrom(peers: k8s.NetworkPolicyPeer[], port: number): k8s.NetworkPolicyIngressRule {
  return { from: peers, ports: [{ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }] };
}
