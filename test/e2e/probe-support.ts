/**
 * Client pods for the real-cluster suites: the probe of test/tools/probe
 * (ko-built, no shell), run as long-lived pods that meet "restricted" and
 * `kubectl exec`ed into to resolve, request, dial and load the services.
 */
import * as YAML from 'yaml';
import { Kubectl } from './cluster-support';
import { RunResult, sleep } from './harness';

/** The probe's binary in its ko-built image. */
export const PROBE = '/ko-app/probe';

const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};

/** Options of {@link ProbeClients.start}. */
export interface ProbeClientOptions {
  /** Labels of the pod besides `app.kubernetes.io/name: <name>` (NetworkPolicies select clients by them). */
  readonly labels?: Record<string, string>;
  /** Pins the pod to this node (a drill's client must stay on a node it does not disturb). */
  readonly nodeName?: string;
  /**
   * Mounts the service account's token and CA, for a client of the API server through the `kubernetes` Service.
   * @default false
   */
  readonly serviceAccountToken?: boolean;
  /**
   * The container's CPU request and limit: a client that must load a service hard (`probe flood`)
   * needs more than a client that only checks it, and a request that keeps it from being starved
   * by the pods it loads.
   * @default { request: '10m', limit: '500m' }
   */
  readonly cpu?: { readonly request: string; readonly limit: string };
}

/** Probe client pods of one cluster. */
export class ProbeClients {
  constructor(private readonly kube: Kubectl, private readonly image: string) {}

  /** A long-running probe pod (`probe serve`) in `ns` (created, labelled "restricted"), Ready. */
  public async start(ns: string, name: string, options: ProbeClientOptions = {}): Promise<void> {
    await this.kube.apply(YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: RESTRICTED } }), 'e2e');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/name': name, ...options.labels } },
      spec: {
        ...(options.nodeName ? { nodeName: options.nodeName } : {}),
        automountServiceAccountToken: options.serviceAccountToken ?? false,
        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'probe',
          image: this.image,
          args: ['serve'],
          resources: { requests: { cpu: options.cpu?.request ?? '10m', memory: '16Mi' }, limits: { cpu: options.cpu?.limit ?? '500m', memory: '64Mi' } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        }],
      },
    };
    const r = await this.kube.apply(YAML.stringify(pod), 'e2e');
    if (r.code !== 0) throw new Error(`client pod ${ns}/${name}: ${r.stderr}`);
    await this.kube.run(['-n', ns, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
  }

  /** Runs the probe with `args` in the client pod `ns/pod`. */
  public run(ns: string, pod: string, args: string[], allowFail = false): Promise<RunResult> {
    return this.kube.run(['-n', ns, 'exec', pod, '--', PROBE, ...args], { allowFail });
  }

  /** Retries {@link run} until it succeeds: a Service answers once EndpointSlices and kube-proxy caught up. */
  public async eventually(ns: string, pod: string, args: string[], seconds = 30): Promise<RunResult> {
    let last = await this.run(ns, pod, args, true);
    for (let i = 0; last.code !== 0 && i < seconds; i++) {
      await sleep(1000);
      last = await this.run(ns, pod, args, true);
    }
    return last;
  }
}
