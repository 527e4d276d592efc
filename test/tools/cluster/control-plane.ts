/**
 * The control plane, in the cluster's own network namespace: etcd on
 * 127.0.0.1, kube-apiserver on <apiIp>:6443 (PodSecurity and NodeRestriction
 * admission, Node and RBAC authorization), kube-controller-manager and
 * kube-scheduler (without leader election: there is one of each).
 */
import * as path from 'path';
import { writeKubeconfig } from './certificates';
import { DaemonPlace, startDaemon, waitForDaemon } from './daemons';
import { API_PORT, CLUSTER_DOMAIN, ClusterLayout, ETCD_PORT, SERVICE_CIDR } from './layout';
import { succeeds } from './sys';

export const CONTROL_PLANE_DAEMONS = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
/** Seconds without a lease renewal before the node lifecycle controller marks a node lost. */
export const NODE_MONITOR_GRACE_S = 30;

export function controlPlanePlace(c: ClusterLayout): DaemonPlace {
  return { netns: c.netns, cgroup: `${c.cgroup}/control-plane` };
}

export function apiServerUrl(c: ClusterLayout): string {
  return `https://${c.apiIp}:${API_PORT}`;
}

const inNetns = (c: ClusterLayout, ...args: string[]) => succeeds('ip', ['netns', 'exec', c.netns, ...args]);

export async function startEtcd(c: ClusterLayout, timeoutS: number): Promise<void> {
  const url = `http://127.0.0.1:${ETCD_PORT}`;
  startDaemon(c.dir, 'etcd', controlPlanePlace(c), ['etcd', '--name', 'control-plane', '--data-dir', path.join(c.dir, 'etcd'),
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'control-plane=http://127.0.0.1:2380', '--initial-cluster-state', 'new',
    // Nothing of a test cluster outlives it: fsync only costs time on a shared disk.
    '--quota-backend-bytes', '1073741824', '--unsafe-no-fsync']);
  await waitForDaemon(c.dir, 'etcd', 'etcd health', timeoutS, () => inNetns(c, 'curl', '-fsS', `${url}/health`));
}

export function startApiServer(c: ClusterLayout): void {
  const pki = path.join(c.dir, 'pki');
  const issuer = `https://kubernetes.default.svc.${CLUSTER_DOMAIN}`;
  startDaemon(c.dir, 'kube-apiserver', controlPlanePlace(c), ['kube-apiserver',
    '--bind-address=0.0.0.0', `--advertise-address=${c.apiIp}`, `--secure-port=${API_PORT}`,
    `--etcd-servers=http://127.0.0.1:${ETCD_PORT}`,
    `--tls-cert-file=${pki}/apiserver.crt`, `--tls-private-key-file=${pki}/apiserver.key`, `--client-ca-file=${pki}/ca.crt`,
    `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`, `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
    `--kubelet-certificate-authority=${pki}/ca.crt`, '--kubelet-preferred-address-types=InternalIP',
    `--requestheader-client-ca-file=${pki}/ca.crt`, '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki}/front-proxy-client.crt`, `--proxy-client-key-file=${pki}/front-proxy-client.key`,
    // The aggregation layer (metrics.k8s.io) reaches its APIService through the Service's endpoints:
    // the API server has no kube-proxy in its namespace.
    '--enable-aggregator-routing=true',
    `--service-account-issuer=${issuer}`, `--service-account-key-file=${pki}/sa.pub`,
    `--service-account-signing-key-file=${pki}/sa.key`, `--api-audiences=${issuer}`,
    '--authorization-mode=Node,RBAC', `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--enable-admission-plugins=NodeRestriction,PodSecurity', '--allow-privileged=true', '--profiling=false',
    // Watch-list streams (sendInitialEvents) need etcd's progress notifications, which Debian's etcd
    // 3.4 lacks ("RequestWatchProgress feature is not supported"), yet the gate (beta, on) kept offering
    // them: kwok's client asked, its watches ended with "the required storage feature
    // RequestWatchProgress is disabled" and restarted, and it saw new pods about 40 s late. Off, the
    // server refuses them up front and clients list and watch.
    '--feature-gates=WatchList=false',
    `--cert-dir=${pki}/apiserver-generated`]);
}

export async function waitForApiServer(c: ClusterLayout, timeoutS: number): Promise<void> {
  const pki = path.join(c.dir, 'pki');
  await waitForDaemon(c.dir, 'kube-apiserver', 'kube-apiserver /readyz', timeoutS, () => succeeds('curl', ['-fsS',
    '--cacert', `${pki}/ca.crt`, '--cert', `${pki}/admin.crt`, '--key', `${pki}/admin.key`, `${apiServerUrl(c)}/readyz`]));
}

/** kube-controller-manager and kube-scheduler, each with its own client certificate. */
export function startControllers(c: ClusterLayout): void {
  const pki = path.join(c.dir, 'pki');
  const kubeconfig = (name: string) => {
    const file = path.join(c.dir, 'conf', `${name}.kubeconfig`);
    writeKubeconfig(file, apiServerUrl(c), pki, name);
    return [`--kubeconfig=${file}`, `--authentication-kubeconfig=${file}`, `--authorization-kubeconfig=${file}`];
  };
  startDaemon(c.dir, 'kube-controller-manager', controlPlanePlace(c), ['kube-controller-manager', ...kubeconfig('kube-controller-manager'),
    '--bind-address=127.0.0.1', '--secure-port=10257', `--cert-dir=${pki}/kcm-generated`,
    '--leader-elect=false', '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki}/sa.key`, `--root-ca-file=${pki}/ca.crt`,
    `--cluster-signing-cert-file=${pki}/ca.crt`, `--cluster-signing-key-file=${pki}/ca.key`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`, '--controllers=*,bootstrapsigner,tokencleaner',
    // How long a node may go without renewing its lease before it is marked lost (default 50 s): the
    // drills kill nodes, and each waited that long. 30 s still spans two of the kubelet's renewals
    // (every 10 s) and a late one, as a loaded machine here makes them.
    `--node-monitor-grace-period=${NODE_MONITOR_GRACE_S}s`]);
  startDaemon(c.dir, 'kube-scheduler', controlPlanePlace(c), ['kube-scheduler', ...kubeconfig('kube-scheduler'),
    '--bind-address=127.0.0.1', '--secure-port=10259', `--cert-dir=${pki}/sched-generated`, '--leader-elect=false']);
}

export async function waitForControllers(c: ClusterLayout, timeoutS: number): Promise<void> {
  await waitForDaemon(c.dir, 'kube-controller-manager', 'kube-controller-manager /healthz', timeoutS,
    () => inNetns(c, 'curl', '-fsSk', 'https://127.0.0.1:10257/healthz'));
  await waitForDaemon(c.dir, 'kube-scheduler', 'kube-scheduler /healthz', timeoutS,
    () => inNetns(c, 'curl', '-fsSk', 'https://127.0.0.1:10259/healthz'));
}
