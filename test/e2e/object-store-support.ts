/**
 * An S3 object store inside a test cluster, for CloudNativePG's WAL archive
 * and base backups: versitygw (an S3 gateway over a directory, Apache-2.0,
 * built here from the Go module proxy by test/tools/images/build.sh) as one
 * pod with its own namespace, under Pod Security "restricted", its port
 * admitted only from the namespaces that back up to it.
 */
import * as crypto from 'crypto';
import * as YAML from 'yaml';
import { Kubectl } from './cluster-support';
import { check, run } from './harness';
import { IMAGES_SH } from './real-cluster-support';

/**
 * What CloudNativePG 1.30's webhook says of every Cluster with `backup.barmanObjectStore` (kubectl
 * prints it on each apply): the in-tree barman-cloud support goes in 1.31, for the Barman Cloud
 * plugin.
 */
export const BARMAN_DEPRECATION = /^Warning: Native support for Barman Cloud backups and recovery is deprecated and will be completely removed in CloudNativePG 1\.31\.0\./;

/** The name the Barman Cloud plugin answers to in a Cluster's `plugins` and `externalClusters`. */
const BARMAN_CLOUD_PLUGIN = 'barman-cloud.cloudnative-pg.io';

/**
 * The barman-cloud configurations (destinationPath, endpointURL, s3Credentials) a Cluster archives
 * to and bootstraps from: the in-tree `barmanObjectStore`s, or the Barman Cloud plugin's
 * `ObjectStore`s it names, looked up by `objectStore` (from git's objects or the live ones).
 */
export async function clusterStores(cluster: any, objectStore: (name: string) => any): Promise<{ archive?: any; source?: any }> {
  const configuration = async (plugin: any) => plugin?.name === BARMAN_CLOUD_PLUGIN && plugin.parameters?.barmanObjectName
    ? (await objectStore(plugin.parameters.barmanObjectName))?.spec?.configuration
    : undefined;
  const recovery = cluster.spec.bootstrap?.recovery;
  const external = cluster.spec.externalClusters?.find((x: any) => x.name === recovery?.source);
  const archiver = cluster.spec.plugins?.find((p: any) => p.isWALArchiver);
  return {
    archive: cluster.spec.backup?.barmanObjectStore ?? await configuration(archiver),
    source: external && (external.barmanObjectStore ?? await configuration(external.plugin)),
  };
}

/** The port versitygw serves S3 on (its default); the Service uses it too, so NetworkPolicies match it after the DNAT. */
const S3_PORT = 7070;

/** An object store running in the cluster. */
export interface ClusterObjectStore {
  /** What CloudNativePG's `endpointURL` names: the Service's DNS name. */
  readonly endpointUrl: string;
  /** The namespace it runs in (the egress rule's peer). */
  readonly namespace: string;
  /** The access key, with the keys `ObjectStoreCredentials` reads by default. */
  readonly credentials: { readonly ACCESS_KEY_ID: string; readonly ACCESS_SECRET_KEY: string };
}

/** Where and for whom {@link startObjectStore} runs the store. */
export interface ClusterObjectStoreOptions {
  /** Its namespace. */
  readonly namespace: string;
  /** The node its pod runs on: its data is an emptyDir, so it must be a node no drill stops. */
  readonly nodeName: string;
  /** The namespaces admitted to its port. */
  readonly clients: string[];
  /** The environment build.sh runs with (crane, go). */
  readonly toolEnv: NodeJS.ProcessEnv;
  /** The cluster's registry. */
  readonly registry: string;
}

/** Builds versitygw's image, runs it in the cluster and waits until it is Ready. */
export async function startObjectStore(kube: Kubectl, options: ClusterObjectStoreOptions): Promise<ClusterObjectStore> {
  const built = await run('bash', [IMAGES_SH, 'versitygw', options.registry], { env: options.toolEnv, echo: '    | ' });
  const image = built.stdout.trim().split('\n').pop()!;
  check(`versitygw image built here and pushed: ${image}`, /@sha256:[0-9a-f]{64}$/.test(image));
  const ns = options.namespace;
  const credentials = { ACCESS_KEY_ID: `e2e${crypto.randomBytes(8).toString('hex')}`, ACCESS_SECRET_KEY: crypto.randomBytes(24).toString('base64url') };
  const labels = { 'app.kubernetes.io/name': 'versitygw' };
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'versitygw-root', namespace: ns },
      stringData: { ROOT_ACCESS_KEY_ID: credentials.ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY: credentials.ACCESS_SECRET_KEY },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'versitygw', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeName: options.nodeName,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'versitygw',
              image,
              args: ['--port', `:${S3_PORT}`, 'posix', '/data'],
              envFrom: [{ secretRef: { name: 'versitygw-root' } }],
              ports: [{ name: 's3', containerPort: S3_PORT }],
              readinessProbe: { tcpSocket: { port: S3_PORT }, periodSeconds: 2 },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'versitygw', namespace: ns, labels },
      spec: { selector: labels, ports: [{ name: 's3', port: S3_PORT, targetPort: S3_PORT }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'versitygw', namespace: ns },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ['Ingress'],
        ingress: [{
          from: options.clients.map(c => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c } } })),
          ports: [{ protocol: 'TCP', port: S3_PORT }],
        }],
      },
    },
  ];
  const applied = await kube.apply(objects.map(o => YAML.stringify(o)).join('---\n'), 'e2e');
  check(`versitygw in namespace ${ns} (restricted), its port ${S3_PORT} admitted only from ${options.clients.join(', ')}`, applied.code === 0, applied.stderr);
  const ready = await kube.run(['-n', ns, 'rollout', 'status', 'deployment/versitygw', '--timeout=180s'], { allowFail: true });
  check('versitygw Ready', ready.code === 0, ready.stderr + (await kube.run(['-n', ns, 'logs', 'deployment/versitygw', '--tail=20'], { allowFail: true })).stdout);
  return { endpointUrl: `http://versitygw.${ns}.svc:${S3_PORT}`, namespace: ns, credentials };
}
