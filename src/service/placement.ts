import { Construct } from 'constructs';
import { checkInteger, checkLabelKey } from '../common/checks';
import { k8s } from '../common/k8s';
import { ValidationError } from '../common/validation-error';

/** The node label of the node's name (set by every kubelet). */
export const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';
/** The node label of the node's zone (set by cloud providers; kind-style local clusters set it by hand). */
export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';
/** The taints the node lifecycle controller puts on a node it lost contact with, or whose kubelet reports not ready. */
export const NODE_LOSS_TAINTS = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'];

/** Options of a {@link TopologySpread}. */
export interface TopologySpreadOptions {
  /**
   * Largest allowed difference between the pod counts of two domains.
   * @default 1
   */
  readonly maxSkew?: number;
  /**
   * Refuse to schedule a pod that would break the spread (`true`), or only
   * prefer domains that keep it (`false`).
   * @default - true for nodes, false for zones
   */
  readonly required?: boolean;
}

/**
 * How a service's replicas are spread over one kind of topology domain (a
 * topologySpreadConstraint). Tainted nodes (cordoned for a drain, or lost)
 * are left out of the count, so a drain or a lost node never blocks the
 * replacements, and the spread is computed per rollout revision.
 */
export class TopologySpread {
  /** One replica per node as far as the nodes go, then evenly: a node drained or lost takes at most its share. */
  public static acrossNodes(options: TopologySpreadOptions = {}): TopologySpread {
    return new TopologySpread(HOSTNAME_TOPOLOGY_KEY, options.maxSkew ?? 1, options.required ?? true);
  }

  /** Evenly over zones (`topology.kubernetes.io/zone`); preferred, not required, by default: nodes without the label still take pods. */
  public static acrossZones(options: TopologySpreadOptions = {}): TopologySpread {
    return new TopologySpread(ZONE_TOPOLOGY_KEY, options.maxSkew ?? 1, options.required ?? false);
  }

  /** Evenly over the domains of any node label. */
  public static byNodeLabel(topologyKey: string, options: TopologySpreadOptions = {}): TopologySpread {
    return new TopologySpread(topologyKey, options.maxSkew ?? 1, options.required ?? false);
  }

  private constructor(
    /** The node label whose values are the domains. */
    public readonly topologyKey: string,
    /** Largest allowed difference between two domains. */
    public readonly maxSkew: number,
    /** DoNotSchedule (true) or ScheduleAnyway (false). */
    public readonly required: boolean,
  ) {}

  /** @internal */
  public _render(scope: Construct, selector: Record<string, string>): k8s.TopologySpreadConstraint {
    return {
      maxSkew: checkInteger(scope, `placement.spread[${this.topologyKey}].maxSkew`, this.maxSkew, 1, 1000),
      topologyKey: checkLabelKey(scope, 'placement.spread.topologyKey', this.topologyKey),
      whenUnsatisfiable: this.required ? 'DoNotSchedule' : 'ScheduleAnyway',
      labelSelector: { matchLabels: selector },
      // Per ReplicaSet: during a rollout the new pods are spread among themselves.
      matchLabelKeys: ['pod-template-hash'],
      // A cordoned (draining) or lost node is tainted: not counted, so it never holds the replacements back.
      nodeTaintsPolicy: 'Honor',
    };
  }
}

/** Where a service's pods run, and how long they stay on a node that is lost. */
export interface PlacementOptions {
  /**
   * How replicas are spread; an empty list turns spreading off.
   * @default [TopologySpread.acrossNodes(), TopologySpread.acrossZones()]: at
   * most one replica more on one node than on another (required), zones evenly
   * as far as possible (preferred)
   */
  readonly spread?: TopologySpread[];
  /**
   * Seconds the pods stay bound to a node that is unreachable or not ready
   * (tolerations of `node.kubernetes.io/unreachable` and
   * `node.kubernetes.io/not-ready`, NoExecute) before they are evicted and
   * replaced on other nodes. Kubernetes' own default, which applies to pods
   * without these tolerations, is 300. The node is marked lost only after the
   * controller manager's node-monitor-grace-period (40 to 50 s) without a
   * heartbeat, so the replacements start that much later.
   * @default 30 (a stateless replica is cheap to replace elsewhere)
   */
  readonly nodeLossTolerationSeconds?: number;
}

/** The pod spec fields of a placement: topologySpreadConstraints and tolerations. @internal */
export function renderPlacement(scope: Construct, options: PlacementOptions, selector: Record<string, string>): {
  topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
  tolerations: k8s.Toleration[];
} {
  const spread = options.spread ?? [TopologySpread.acrossNodes(), TopologySpread.acrossZones()];
  const keys = spread.map(s => s.topologyKey);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice) ValidationError.fail(scope, `placement.spread names topology key "${twice}" twice; keep one TopologySpread per key`);
  const seconds = checkInteger(scope, 'placement.nodeLossTolerationSeconds', options.nodeLossTolerationSeconds ?? 30, 0, 86400);
  return {
    topologySpreadConstraints: spread.length ? spread.map(s => s._render(scope, selector)) : undefined,
    tolerations: NODE_LOSS_TAINTS.map(key => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds })),
  };
}
