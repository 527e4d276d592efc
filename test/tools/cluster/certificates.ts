/**
 * The cluster's PKI (openssl, 2-day certificates, one CA, ECDSA P-256 keys as
 * kubeadm's `encryptionAlgorithm: ECDSA-P256` makes; RSA's key generation cost
 * every cluster about 3 CPU-seconds) and kubeconfigs:
 * the API server's serving certificate for the control plane's address and
 * the `kubernetes` Service, client certificates for the admin, the control
 * plane's components, kube-proxy and kube-router, and per node a kubelet
 * client certificate (system:node:<name>, for the Node authorizer) and a
 * serving certificate for the node's address.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { API_SERVICE_IP, CLUSTER_DOMAIN } from './layout';
import { sh } from './sys';

export interface CertificateRequest {
  /** File name stem: <pki>/<name>.crt and .key. */
  name: string;
  subject: string;
  usage: 'serverAuth' | 'clientAuth';
  /** subjectAltName, e.g. "IP:10.0.0.1,DNS:localhost". */
  altNames?: string;
}

/** openssl's arguments for a new P-256 key. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

async function makeCa(pki: string): Promise<void> {
  await sh('openssl', ['req', '-x509', ...NEW_KEY, '-nodes', '-sha256', '-days', '2',
    '-keyout', path.join(pki, 'ca.key'), '-out', path.join(pki, 'ca.crt'), '-subj', '/CN=cluster-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
}

/** A key and a certificate signed by <pki>/ca.{crt,key}. */
export async function issue(pki: string, r: CertificateRequest): Promise<void> {
  const base = path.join(pki, r.name);
  await sh('openssl', ['req', '-new', ...NEW_KEY, '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', r.subject]);
  fs.writeFileSync(`${base}.ext`, [
    // An ECDSA key signs (TLS key exchange is ECDHE); it enciphers no key.
    'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${r.usage}`,
    ...(r.altNames ? [`subjectAltName=${r.altNames}`] : []), '',
  ].join('\n'));
  await sh('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'),
    // A random serial per certificate: the nodes' certificates are issued in parallel, and a shared
    // serial file (-CAcreateserial) is read and rewritten by each openssl, which corrupts it.
    '-set_serial', `0x${crypto.randomBytes(16).toString('hex')}`, '-sha256', '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.crt`]);
  fs.rmSync(`${base}.csr`);
  fs.rmSync(`${base}.ext`);
}

/** The control plane's certificates and the service-account key pair, in `pki` (mode 0700). */
export async function controlPlanePki(pki: string, apiIp: string): Promise<void> {
  fs.mkdirSync(pki, { recursive: true, mode: 0o700 });
  await makeCa(pki);
  const svc = `DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.${CLUSTER_DOMAIN}`;
  const requests: CertificateRequest[] = [
    // Pods reach the API server through the `kubernetes` Service (10.96.0.1 -> <apiIp>:6443).
    { name: 'apiserver', subject: '/CN=kube-apiserver', usage: 'serverAuth', altNames: `IP:${apiIp},IP:127.0.0.1,IP:${API_SERVICE_IP},DNS:localhost,${svc}` },
    { name: 'admin', subject: '/O=system:masters/CN=admin', usage: 'clientAuth' },
    // kubectl logs/exec: the API server authenticates to the kubelets with this (kubeadm's name).
    { name: 'apiserver-kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', usage: 'clientAuth' },
    { name: 'front-proxy-client', subject: '/CN=front-proxy-client', usage: 'clientAuth' },
    { name: 'kube-controller-manager', subject: '/CN=system:kube-controller-manager', usage: 'clientAuth' },
    { name: 'kube-scheduler', subject: '/CN=system:kube-scheduler', usage: 'clientAuth' },
    // Bound to system:node-proxier by default.
    { name: 'kube-proxy', subject: '/CN=system:kube-proxy', usage: 'clientAuth' },
    // The NetworkPolicy firewall reads pods, namespaces and policies: bound to a ClusterRole by the addons.
    { name: 'kube-router', subject: '/CN=system:kube-router', usage: 'clientAuth' },
  ];
  await Promise.all(requests.map(r => issue(pki, r)));
  // The service accounts' tokens are signed ES256 with it.
  await sh('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(pki, 'sa.key')]);
  await sh('openssl', ['ec', '-in', path.join(pki, 'sa.key'), '-pubout', '-out', path.join(pki, 'sa.pub')]);
}

/** A node's kubelet certificates: <name>.kubelet-client (Node authorizer) and <name>.kubelet-serving. */
export async function nodePki(pki: string, node: string, ip: string): Promise<void> {
  await issue(pki, { name: `${node}.kubelet-client`, subject: `/O=system:nodes/CN=system:node:${node}`, usage: 'clientAuth' });
  await issue(pki, { name: `${node}.kubelet-serving`, subject: `/CN=${node}`, usage: 'serverAuth', altNames: `IP:${ip},DNS:${node}` });
}

const b64 = (file: string) => fs.readFileSync(file).toString('base64');

/** A kubeconfig (certificates embedded, mode 0600) for the client certificate <pki>/<cert>.crt. */
export function writeKubeconfig(file: string, server: string, pki: string, cert: string): void {
  fs.writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(path.join(pki, 'ca.crt'))}
users:
- name: ${cert}
  user:
    client-certificate-data: ${b64(path.join(pki, `${cert}.crt`))}
    client-key-data: ${b64(path.join(pki, `${cert}.key`))}
contexts:
- name: local
  context:
    cluster: local
    user: ${cert}
    namespace: default
current-context: local
`, { mode: 0o600 });
}
