import * as path from 'path';
import { Construct } from 'constructs';
import { k8s } from '../common/k8s';
import { KubeClusterRoleBinding } from '../common/kube-objects';
import { ComputeResources, renderResources } from '../common/resources';
import { vendoredDocuments } from '../common/vendored-file';
import { VendoredObject } from '../common/vendored-object';
import { ContainerImage } from '../images/container-image';
import { restrictedContainerSecurityContext } from '../security/restricted';

/** Version of the Barman Cloud plugin whose manifest is vendored and whose image the lock pins. */
const BARMAN_CLOUD_PLUGIN_VERSION = 'v0.14.0';
/** The name a `Cluster` enables the plugin by (`spec.plugins[].name`), as the plugin reports it. */
export const BARMAN_CLOUD_PLUGIN_NAME = 'barman-cloud.cloudnative-pg.io';
/**
 * Where CloudNativePG's operator looks for plugins' Unix sockets
 * (`PLUGIN_SOCKET_DIR`, upstream's default) and where the plugin listens.
 */
const PLUGIN_SOCKET_DIR = '/plugins';
/** Upstream's manifest as JSON (third_party/, made from the vendored YAML and checked against it by a test). */
const MANIFEST_PATH = path.join('third_party', `plugin-barman-cloud-${BARMAN_CLOUD_PLUGIN_VERSION}`, 'manifest.json');
/** The cluster role upstream binds the plugin's service account to: ObjectStores, Secrets, the Roles it makes for each Cluster. */
const PLUGIN_CLUSTER_ROLE = 'plugin-barman-cloud';
/**
 * Measured beside an operator of a three-instance cluster: 1-4m of CPU and 9-15 MiB. Its request adds to
 * the operator pod's on whichever node takes both operators in a drain.
 */
const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '10m', memoryRequest: '32Mi', cpuLimit: '500m', memoryLimit: '256Mi' };

/** Props of the Barman Cloud plugin, the successor of CloudNativePG's in-tree `barmanObjectStore`. */
export interface BarmanCloudPluginProps {
  /**
   * The plugin's image: `/manager` of `github.com/cloudnative-pg/plugin-barman-cloud`
   * beside the `barman-cloud-*` commands. The same image is the plugin in the
   * operator's pod (`/manager operator`) and the sidecar the plugin injects
   * into every Postgres pod of a Cluster that uses it (`/manager instance`),
   * which archives WAL and takes and restores base backups.
   */
  readonly image: ContainerImage;
  /**
   * CPU and memory of the plugin beside the operator.
   * @default - 10m/32Mi requested, 500m/256Mi limit
   */
  readonly resources?: ComputeResources;
}

/**
 * Installs the Barman Cloud plugin into CloudNativePG's operator: its
 * `ObjectStore` CRD, its cluster role bound to the operator's service
 * account, and the plugin as a sidecar of the operator's pod, serving
 * CNPG-I on a Unix socket in a volume both containers mount.
 *
 * Upstream runs the plugin as a Deployment of its own, reached over TCP with
 * mutual TLS from certificates cert-manager issues. As a sidecar it needs no
 * port, Service, certificate or cert-manager (whose controller cannot be
 * built here: the module proxy serves no version of its command modules):
 * the socket never leaves the pod. The sidecar is a native one (an init
 * container that keeps running) with a startup probe on the socket, because
 * the operator looks for plugin sockets once, when it starts. Every operator
 * replica has its own plugin, without leader election: the plugin serves
 * CNPG-I only while it leads, and the operator that leads must find its own
 * plugin serving; the plugin's one controller (the rules of the Roles it made)
 * is idempotent, so two running it do no harm.
 *
 * @param deployment upstream's operator Deployment, as parsed JSON (changed in place)
 * @internal
 */
export function installBarmanCloudPlugin(
  scope: Construct, deployment: any, serviceAccount: { name: string; namespace: string }, props: BarmanCloudPluginProps, allowUnpinned: boolean,
): void {
  const image = props.image.resolve(scope, { allowUnpinned });
  const resources = renderResources(scope, 'barmanCloudPlugin.resources', props.resources ?? DEFAULT_RESOURCES, '100Mi');
  const docs = vendoredDocuments(MANIFEST_PATH);
  const crd = docs.find(d => d.kind === 'CustomResourceDefinition');
  const clusterRole = docs.find(d => d.kind === 'ClusterRole' && d.metadata.name === PLUGIN_CLUSTER_ROLE);
  new VendoredObject(scope, 'BarmanCloudPluginCrd', crd);
  new VendoredObject(scope, 'BarmanCloudPluginClusterRole', clusterRole);
  new KubeClusterRoleBinding(scope, 'BarmanCloudPluginClusterRoleBinding', {
    metadata: { name: PLUGIN_CLUSTER_ROLE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PLUGIN_CLUSTER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: serviceAccount.namespace }],
  });

  const pod = deployment.spec.template.spec;
  const manager = pod.containers[0];
  pod.volumes = [...(pod.volumes ?? []), { name: 'plugins', emptyDir: {} }];
  const mount = { name: 'plugins', mountPath: PLUGIN_SOCKET_DIR };
  manager.volumeMounts = [...(manager.volumeMounts ?? []), mount];
  // JSON, as the rest of upstream's Deployment: a container's restartPolicy (a native sidecar,
  // Kubernetes 1.28+) is newer than the generated 1.27 types.
  const sidecar = {
    name: 'plugin-barman-cloud',
    image,
    imagePullPolicy: 'IfNotPresent',
    args: ['operator', `--plugin-path=${PLUGIN_SOCKET_DIR}`, '--leader-elect=false', '--health-probe-bind-address=0', '--metrics-bind-address=0'],
    // The image the plugin injects into Postgres pods as their backup sidecar.
    env: [{ name: 'SIDECAR_IMAGE', value: image }],
    restartPolicy: 'Always',
    // The socket is there once the plugin listens (its operator side serves no gRPC health service).
    startupProbe: { exec: { command: ['/usr/bin/test', '-S', `${PLUGIN_SOCKET_DIR}/${BARMAN_CLOUD_PLUGIN_NAME}`] }, periodSeconds: 1, failureThreshold: 60 },
    resources: k8s.toJson_ResourceRequirements(resources),
    // The operator's user: connecting to a Unix socket takes write permission on it, which the
    // plugin's umask gives its own user only.
    securityContext: {
      ...k8s.toJson_SecurityContext(restrictedContainerSecurityContext()),
      runAsUser: manager.securityContext?.runAsUser,
      runAsGroup: manager.securityContext?.runAsGroup,
    },
    volumeMounts: [mount],
  };
  pod.initContainers = [...(pod.initContainers ?? []), sidecar];
}
