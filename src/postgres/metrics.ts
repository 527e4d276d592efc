import { IConstruct } from 'constructs';
import { k8s } from '../common/k8s';
import { ingressFrom, NetworkPeer } from '../common/network';
import { ComputeResources, renderResources } from '../common/resources';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';
import { restrictedContainerSecurityContext } from '../security/restricted';

/** Port postgres_exporter serves `/metrics` on. */
export const METRICS_PORT = 9187;

/** Annotations by which Prometheus's Kubernetes service discovery finds the exporter. */
export const SCRAPE_ANNOTATIONS: Record<string, string> = {
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(METRICS_PORT),
  'prometheus.io/path': '/metrics',
};

/** Options of the postgres_exporter sidecar. */
export interface PostgresMetricsOptions {
  /** The postgres_exporter image (prometheuscommunity/postgres-exporter). */
  readonly image: ContainerImage;
  /**
   * Allow an image referenced by tag. Only for dev.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * CPU and memory of the exporter.
   * @default - 20m/32Mi requested, 100m/64Mi limit
   */
  readonly resources?: ComputeResources;
  /**
   * The Prometheus pods admitted to the exporter port by the NetworkPolicy.
   * @default [NetworkPeer.namespace('monitoring')]
   */
  readonly scrapers?: NetworkPeer[];
}

/** The NetworkPolicy rule that admits only the scrapers to the exporter port. */
export function scrapeRule(scope: IConstruct, options: { readonly scrapers?: NetworkPeer[] }): k8s.NetworkPolicyIngressRule {
  const scrapers = options.scrapers ?? [NetworkPeer.namespace('monitoring')];
  if (scrapers.length === 0) {
    ValidationError.fail(scope, 'metrics.scrapers is empty, so no Prometheus could reach the exporter: '
      + "leave it unset to admit the 'monitoring' namespace, or list the Prometheus pods with NetworkPeer");
  }
  return ingressFrom(scrapers.map(peer => peer.bind(scope)), METRICS_PORT);
}

/** The exporter container, reaching Postgres over the pod's loopback. */
export function metricsContainer(
  scope: IConstruct, options: PostgresMetricsOptions, database: { name: string; port: number }, loginEnv: k8s.EnvVar[],
): k8s.Container {
  return {
    name: 'metrics',
    image: options.image.resolve(scope, { allowUnpinned: options.allowUnpinnedImage ?? false }),
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }],
    env: [
      { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${database.port}/${database.name}?sslmode=disable` },
      ...loginEnv,
    ],
    resources: renderResources(scope, 'metrics.resources', options.resources
      ?? { cpuRequest: '20m', memoryRequest: '32Mi', cpuLimit: '100m', memoryLimit: '64Mi' }, '64Mi'),
    // The exporter image runs as nobody, not as the postgres user.
    securityContext: restrictedContainerSecurityContext(65534),
    // Liveness only needs the port open; readiness asks for a page.
    livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 20, timeoutSeconds: 2 },
    readinessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 10, timeoutSeconds: 2 },
  };
}
