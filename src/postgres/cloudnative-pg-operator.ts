import * as path from 'path';
import { Construct } from 'constructs';
import { BarmanCloudPluginProps, installBarmanCloudPlugin } from './barman-cloud-plugin';
import { RESTRICTED_NAMESPACE_LABELS } from '../argocd/sync-options';
import { checkDnsLabel, checkInteger } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeNamespace, KubeNetworkPolicy, KubePodDisruptionBudget } from '../common/kube-objects';
import { ComputeResources, renderResources } from '../common/resources';
import { vendoredDocuments } from '../common/vendored-file';
import { VendoredObject } from '../common/vendored-object';
import { ContainerImage } from '../images/container-image';

/** Version of CloudNativePG whose release manifest is vendored and whose operator image the lock pins. */
export const CLOUDNATIVE_PG_VERSION = 'v1.30.0';
/** Namespace the operator runs in by default, as upstream's manifest has it. */
export const CLOUDNATIVE_PG_NAMESPACE = 'cnpg-system';
/** Name of the operator's Deployment. */
export const CLOUDNATIVE_PG_OPERATOR = 'cnpg-controller-manager';
/** The Secret the operator writes its webhook certificate to: made in the cluster, never in git. */
export const CLOUDNATIVE_PG_WEBHOOK_SECRET = 'cnpg-webhook-cert';
/**
 * Upstream's release manifest as JSON (third_party/, made from the vendored
 * YAML and checked against it by a test): parsing the 1.3 MB YAML took most
 * of a synth's time, the JSON takes 20 ms.
 */
const MANIFEST_PATH = path.join('third_party', `cloudnative-pg-${CLOUDNATIVE_PG_VERSION}`, `cnpg-${CLOUDNATIVE_PG_VERSION.slice(1)}.json`);
/** The namespace upstream's manifest puts every namespaced object in, and names in bindings and webhooks. */
const UPSTREAM_NAMESPACE = 'cnpg-system';
const WEBHOOK_PORT = 9443;
const METRICS_PORT = 8080;
const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '100m', memoryRequest: '100Mi', cpuLimit: '1', memoryLimit: '256Mi' };

/** Props of {@link CloudNativePgOperator}. */
export interface CloudNativePgOperatorProps {
  /** The operator image (`ghcr.io/cloudnative-pg/cloudnative-pg`, or one built like it), resolved to a digest. */
  readonly image: ContainerImage;
  /**
   * Namespace of the operator. The chart it is in must have no namespace:
   * the CRDs, cluster roles and webhook configurations are cluster-scoped.
   * @default 'cnpg-system'
   */
  readonly namespace?: string;
  /**
   * Allow an image referenced by tag. Only for dev.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * CPU and memory of the operator.
   * @default - 100m/100Mi requested, 1 CPU/256Mi limit
   */
  readonly resources?: ComputeResources;
  /**
   * Operator pods, on different nodes where there are several. One leads
   * (`--leader-elect`); another takes over within seconds when the leader's
   * node is lost. With a single pod (upstream's default), losing its node
   * stops every failover until Kubernetes evicts the pod (5 minutes).
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Run the Barman Cloud plugin beside the operator, so that `PostgresCluster`s
   * can back up with `backup.method: 'plugin'`: the successor of the in-tree
   * `barmanObjectStore`, which CloudNativePG 1.31 removes. Its image follows
   * `allowUnpinnedImage` like the operator's.
   * @default - no plugin: only the in-tree backup is available
   */
  readonly barmanCloudPlugin?: BarmanCloudPluginProps;
}

/**
 * The CloudNativePG operator, as a platform part: upstream's release
 * manifest of v1.30.0 (vendored: every CRD, the RBAC,
 * the webhooks, the monitoring queries, the Deployment), with
 *
 * - the operator image pinned by digest, in the Deployment and in
 *   `OPERATOR_IMAGE_NAME` (every Postgres pod's init container copies the
 *   instance manager from it), pulled only when missing;
 * - its namespace (a Namespace object under "restricted" Pod Security) and
 *   every reference to it set to `namespace`;
 * - a NetworkPolicy: only the webhook port is open (the API server calls it
 *   from outside the pod network) and the metrics port to the same; egress
 *   stays open, since it talks to the API server and every instance's
 *   status port;
 * - the webhook configurations compared server-side by Argo CD
 *   (`ServerSideDiff=true`): the operator writes their `caBundle` from the
 *   certificate it makes itself, which git does not hold.
 */
export class CloudNativePgOperator extends Construct {
  /** Name of the operator's Deployment. */
  public readonly name = CLOUDNATIVE_PG_OPERATOR;
  /** Namespace of the operator. */
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: CloudNativePgOperatorProps) {
    super(scope, id);
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });
    const namespace = this.namespace = checkDnsLabel(this, 'namespace', props.namespace ?? CLOUDNATIVE_PG_NAMESPACE);
    const resources = renderResources(this, 'resources', props.resources ?? DEFAULT_RESOURCES, '200Mi');
    const replicas = checkInteger(this, 'replicas', props.replicas ?? 2, 1, 10);

    new KubeNamespace(this, 'Namespace', {
      metadata: { name: namespace, labels: { 'app.kubernetes.io/name': 'cloudnative-pg', ...RESTRICTED_NAMESPACE_LABELS } },
    });
    const docs = vendoredDocuments(MANIFEST_PATH);
    for (const doc of docs) {
      if (doc.kind === 'Namespace') continue;
      const object = relocate(doc, namespace);
      if (object.kind === 'Deployment') {
        pinOperator(object, image, resources);
        spreadOperator(object, replicas);
        if (props.barmanCloudPlugin) {
          installBarmanCloudPlugin(this, object, { name: object.spec.template.spec.serviceAccountName, namespace }, props.barmanCloudPlugin,
            props.allowUnpinnedImage ?? false);
        }
      }
      if (object.kind.endsWith('WebhookConfiguration')) {
        object.metadata.annotations = { ...object.metadata.annotations, 'argocd.argoproj.io/compare-options': 'ServerSideDiff=true' };
      }
      new VendoredObject(this, `${object.kind}-${object.metadata.name}`, object);
    }
    if (replicas > 1) {
      // A drain takes one at a time, so a leader is always there to take over.
      new KubePodDisruptionBudget(this, 'PodDisruptionBudget', {
        metadata: { name: this.name, namespace, labels: { 'app.kubernetes.io/name': 'cloudnative-pg' } },
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } } },
      });
    }
    new KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: this.name, namespace, labels: { 'app.kubernetes.io/name': 'cloudnative-pg' } },
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' } },
        policyTypes: ['Ingress'],
        // The API server calls the webhooks from the control plane's address, which no pod
        // selector can name and which differs per cluster; nothing else is open.
        ingress: [{ ports: [{ port: k8s.IntOrString.fromNumber(WEBHOOK_PORT), protocol: 'TCP' }, { port: k8s.IntOrString.fromNumber(METRICS_PORT), protocol: 'TCP' }] }],
      },
    });
  }
}

/**
 * A manifest object moved from upstream's namespace to `namespace`, wherever it names it, without
 * empty subresources. Changes `object` itself: each construct parses the manifest afresh.
 */
function relocate(object: any, namespace: string): any {
  if (object.metadata.namespace === UPSTREAM_NAMESPACE) object.metadata.namespace = namespace;
  for (const subject of object.subjects ?? []) {
    if (subject.namespace === UPSTREAM_NAMESPACE) subject.namespace = namespace;
  }
  for (const webhook of object.webhooks ?? []) {
    if (webhook.clientConfig?.service?.namespace === UPSTREAM_NAMESPACE) webhook.clientConfig.service.namespace = namespace;
  }
  // Two CRDs declare `subresources: {}`, which the API server drops: Argo CD would show it as a diff forever.
  for (const version of object.kind === 'CustomResourceDefinition' ? object.spec.versions : []) {
    if (version.subresources && Object.keys(version.subresources).length === 0) delete version.subresources;
  }
  return object;
}

/**
 * Sets the replicas, preferably each on its own node: preferred, not
 * required, so a one-node cluster still runs them all.
 */
function spreadOperator(deployment: any, replicas: number): void {
  deployment.spec.replicas = replicas;
  if (replicas === 1) return;
  deployment.spec.template.spec.affinity = {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: { labelSelector: { matchLabels: deployment.spec.selector.matchLabels }, topologyKey: 'kubernetes.io/hostname' },
      }],
    },
  };
}

/** Sets the operator's image (and the image its instances bootstrap from) and resources in upstream's Deployment. */
function pinOperator(deployment: any, image: string, resources: k8s.ResourceRequirements): void {
  const container = deployment.spec.template.spec.containers[0];
  container.image = image;
  container.imagePullPolicy = 'IfNotPresent';
  container.resources = k8s.toJson_ResourceRequirements(resources);
  for (const env of container.env) {
    if (env.name === 'OPERATOR_IMAGE_NAME') env.value = image;
  }
}
