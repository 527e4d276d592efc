import * as path from 'path';
import { Construct } from 'constructs';
import { checkDnsLabel } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeClusterRole, KubeClusterRoleBinding, KubeDeployment, KubeNetworkPolicy, KubeRole, KubeRoleBinding, KubeService, KubeServiceAccount } from '../common/kube-objects';
import { objectLabels, selectorLabels } from '../common/labels';
import { ComputeResources, renderResources } from '../common/resources';
import { ValidationError } from '../common/validation-error';
import { vendoredDocuments } from '../common/vendored-file';
import { VendoredObject } from '../common/vendored-object';
import { ContainerImage } from '../images/container-image';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../security/restricted';

/** Version of the Sealed Secrets controller whose CRD is vendored and whose image the lock pins. */
export const SEALED_SECRETS_VERSION = 'v0.27.1';
/** Namespace the controller (and its keys) live in by default. */
export const SEALED_SECRETS_NAMESPACE = 'sealed-secrets';
/** Name of the controller's Deployment and Service, as kubeseal expects (`--controller-name`). */
export const SEALED_SECRETS_CONTROLLER = 'sealed-secrets-controller';
/** Label of the controller's key Secrets; `kubectl get secret -l` with it is the key backup. */
export const SEALED_SECRETS_KEY_LABEL = 'sealedsecrets.bitnami.com/sealed-secrets-key';
/** The vendored CRD as JSON: parsing its YAML in a fresh process took 20-70 ms of a synth. */
const CRD_PATH = path.join('third_party', `sealed-secrets-${SEALED_SECRETS_VERSION}`, 'bitnami.com_sealedsecrets.json');

const HTTP_PORT = 8080;
const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '50m', memoryRequest: '64Mi', cpuLimit: '500m', memoryLimit: '256Mi' };

/** Props of {@link SealedSecretsController}. */
export interface SealedSecretsControllerProps {
  /** The controller image (`bitnami/sealed-secrets-controller`, or one built like it), resolved to a digest. */
  readonly image: ContainerImage;
  /**
   * Namespace of the controller and its keys. The chart it is in must have no
   * namespace: the CRD and cluster roles are cluster-scoped.
   * @default 'sealed-secrets'
   */
  readonly namespace?: string;
  /**
   * Allow an image referenced by tag. Only for dev.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * How often the controller adds a new sealing key (old keys stay, so old
   * sealed files still open). `0` turns renewal off: the certificate the
   * environments' files are sealed with then stays current until you rotate.
   * @default '720h' (the controller's default, 30 days)
   */
  readonly keyRenewPeriod?: string;
  /**
   * CPU and memory of the controller.
   * @default - 50m/64Mi requested, 500m/256Mi limit
   */
  readonly resources?: ComputeResources;
}

/**
 * The Sealed Secrets controller, as the platform part of a GitOps tree:
 * the SealedSecret CRD (vendored, v0.27.1), its ServiceAccount and RBAC
 * (as upstream's `controller.yaml`), the Deployment under "restricted" Pod
 * Security, the Service kubeseal and `cdk8s-gitops secrets seal` reach through the API
 * server's proxy, and a NetworkPolicy admitting only that port.
 *
 * It runs with `--update-status`, so each SealedSecret reports whether it was
 * unsealed and Argo CD shows it Healthy or Degraded. Its keys are Secrets in
 * its namespace labelled {@link SEALED_SECRETS_KEY_LABEL}: back them up.
 */
export class SealedSecretsController extends Construct {
  /** Name of the Deployment and Service. */
  public readonly name = SEALED_SECRETS_CONTROLLER;
  /** Namespace of the controller and its keys. */
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: SealedSecretsControllerProps) {
    super(scope, id);
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });
    const keyRenewPeriod = props.keyRenewPeriod ?? '720h';
    if (!/^(0|([0-9]+h)?([0-9]+m)?([0-9]+s)?)$/.test(keyRenewPeriod) || keyRenewPeriod === '') {
      ValidationError.fail(this, `keyRenewPeriod "${keyRenewPeriod}" is not a duration: use hours, minutes and seconds such as 720h, or 0 to turn renewal off`);
    }
    const namespace = this.namespace = checkDnsLabel(this, 'namespace', props.namespace ?? SEALED_SECRETS_NAMESPACE);
    const labels = objectLabels({ name: this.name, component: 'controller', partOf: 'sealed-secrets' });
    const selector = selectorLabels({ name: this.name, component: 'controller' });
    const name = this.name;

    // Read here rather than with cdk8s's Include, which loads files in a child process that the
    // synth bundle does not carry.
    new VendoredObject(this, 'Crd', vendoredDocuments(CRD_PATH)[0]);

    const account = new KubeServiceAccount(this, 'ServiceAccount', { metadata: { name, namespace, labels } });
    const subject = { kind: 'ServiceAccount', name: account.name, namespace };
    const unsealer = new KubeClusterRole(this, 'UnsealerRole', {
      metadata: { name: 'secrets-unsealer', labels },
      rules: [
        { apiGroups: ['bitnami.com'], resources: ['sealedsecrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['bitnami.com'], resources: ['sealedsecrets/status'], verbs: ['update'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'update', 'delete', 'watch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      ],
    });
    new KubeClusterRoleBinding(this, 'UnsealerBinding', {
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: unsealer.name },
      subjects: [subject],
    });
    // Its own keys: it lists them at start and creates a new one at each renewal.
    const keyAdmin = new KubeRole(this, 'KeyAdminRole', {
      metadata: { name: 'sealed-secrets-key-admin', namespace, labels },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'list'] }],
    });
    new KubeRoleBinding(this, 'KeyAdminBinding', {
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: keyAdmin.name },
      subjects: [subject],
    });
    // Anyone signed in may fetch the certificate and re-encrypt through the API server's proxy
    // (public-key operations: neither returns a plaintext), as upstream allows.
    const proxier = new KubeRole(this, 'ServiceProxierRole', {
      metadata: { name: 'sealed-secrets-service-proxier', namespace, labels },
      rules: [
        { apiGroups: [''], resources: ['services'], resourceNames: [name], verbs: ['get'] },
        { apiGroups: [''], resources: ['services/proxy'], resourceNames: [`http:${name}:`, `http:${name}:http`, name], verbs: ['create', 'get'] },
      ],
    });
    new KubeRoleBinding(this, 'ServiceProxierBinding', {
      metadata: { name: 'sealed-secrets-service-proxier', namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: proxier.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
    });

    new KubeDeployment(this, 'Deployment', {
      metadata: { name, namespace, labels },
      spec: {
        // One controller: two would race to create the first key.
        replicas: 1,
        revisionHistoryLimit: 5,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: account.name,
            // The controller is a Kubernetes client: it needs its token.
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext({ runAsUser: 1001, fsGroup: 65534 }),
            containers: [{
              name: 'controller',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['controller'],
              args: ['--update-status', `--key-renew-period=${keyRenewPeriod}`, '--key-prefix=sealed-secrets-key'],
              env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              resources: renderResources(this, 'resources', props.resources ?? DEFAULT_RESOURCES, '256Mi'),
              securityContext: restrictedContainerSecurityContext(),
              readinessProbe: { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, failureThreshold: 6 },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } }],
          },
        },
      },
    });
    new KubeService(this, 'Service', {
      metadata: { name, namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'http', port: HTTP_PORT, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
    new KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name, namespace, labels },
      spec: {
        podSelector: { matchLabels: selector },
        // Only its HTTP port is open: the API server's service proxy (kubeseal, cdk8s-gitops secrets)
        // connects from the node, which no pod selector can name. Egress stays open: it talks
        // to the API server, whose address differs per cluster.
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: k8s.IntOrString.fromNumber(HTTP_PORT), protocol: 'TCP' }] }],
      },
    });
  }
}
