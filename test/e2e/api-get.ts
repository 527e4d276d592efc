/**
 * `kubectl get ... -o json` answered by the suite's own process: one GET to the API server's REST
 * interface over a kept-alive TLS connection, with the kubeconfig's client certificate.
 *
 * Why: the suites poll (a Cluster's phase, pods, Argo CD's Applications) thousands of times a run,
 * and a kubectl process costs about 0.08 CPU-seconds each time: 4.7 of the run's CPU-minutes on two
 * cores (README, "where test:e2e's time goes"). Only the plain forms are answered here, the same way
 * kubectl answers them (a resource type or `type/name`, at most one name, `-n`, `-A`, `-l`,
 * `--field-selector`, `-o json`); anything else, or a type the API server's discovery does not name
 * exactly once, is left to kubectl (`apiGet` returns undefined).
 */
import * as fs from 'fs';
import * as https from 'https';
import * as YAML from 'yaml';
import type { RunResult } from './harness';

/** A `kubectl get` this module can answer. */
interface GetRequest {
  readonly type: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly allNamespaces: boolean;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** One resource of the API server's discovery. */
interface Resource {
  /** `/api/v1` or `/apis/<group>/<version>` (the group's preferred version). */
  readonly base: string;
  readonly group: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly shortNames: string[];
  readonly namespaced: boolean;
  readonly apiVersion: string;
}

/** The flags that take a value, by the field of GetRequest they set. */
const VALUE_FLAGS: Record<string, 'namespace' | 'labelSelector' | 'fieldSelector' | 'output'> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '-l': 'labelSelector',
  '--selector': 'labelSelector',
  '--field-selector': 'fieldSelector',
  '-o': 'output',
  '--output': 'output',
};

/** kubectl's arguments as a GetRequest, or undefined for any form this module leaves to kubectl. */
export function parseGet(args: string[]): GetRequest | undefined {
  const values: Partial<Record<'namespace' | 'labelSelector' | 'fieldSelector' | 'output', string>> = {};
  const positional: string[] = [];
  let allNamespaces = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-A' || arg === '--all-namespaces') {
      allNamespaces = true;
      continue;
    }
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const field = VALUE_FLAGS[flag];
    if (!field || values[field] !== undefined) return undefined;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) return undefined;
    values[field] = value;
  }
  if (values.output !== 'json' || positional[0] !== 'get') return undefined;
  const [typeArg, ...names] = positional.slice(1);
  if (!typeArg || typeArg.includes(',')) return undefined;
  const [type, slashName, extra] = typeArg.split('/');
  if (extra !== undefined || (slashName !== undefined && names.length) || names.length > 1) return undefined;
  return {
    type,
    name: slashName ?? names[0],
    namespace: values.namespace,
    allNamespaces,
    labelSelector: values.labelSelector,
    fieldSelector: values.fieldSelector,
  };
}

const DISCOVERY_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
/** No GET of a poll waits longer than kubectl's would in practice (a dead API server refuses at once). */
const REQUEST_TIMEOUT_MS = 60_000;
/** A type the discovery does not know is looked up again at most this often (a CRD installed since). */
const REDISCOVER_AFTER_MS = 2_000;

/** The API server of one kubeconfig: its TLS connection and its discovery. */
class ApiServer {
  private readonly agent: https.Agent;
  private resources: Resource[] | undefined;
  private discoveredAt = 0;
  /** The API server has no aggregated discovery: kubectl answers everything. */
  private unsupported = false;

  constructor(private readonly server: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }, private readonly namespace: string) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ...tls });
  }

  /** kubectl's result for `request`, or undefined when its type is not known exactly once. */
  public async get(request: GetRequest): Promise<RunResult | undefined> {
    const resource = this.unsupported ? undefined : await this.resolve(request.type);
    if (!resource) return undefined;
    let path = resource.base;
    if (resource.namespaced && !request.allNamespaces) path += `/namespaces/${encodeURIComponent(request.namespace ?? this.namespace)}`;
    path += `/${resource.plural}`;
    if (request.name !== undefined) {
      path += `/${encodeURIComponent(request.name)}`;
    } else {
      const query = new URLSearchParams();
      if (request.labelSelector !== undefined) query.set('labelSelector', request.labelSelector);
      if (request.fieldSelector !== undefined) query.set('fieldSelector', request.fieldSelector);
      const search = query.toString();
      if (search) path += `?${search}`;
    }
    let response: { status: number; body: any };
    try {
      response = await this.request(path, 'application/json');
    } catch (e) {
      return { code: 1, stdout: '', stderr: `Unable to connect to the server: ${(e as Error).message}\n` };
    }
    const { status, body } = response;
    if (status !== 200) {
      return { code: 1, stdout: '', stderr: `Error from server (${body?.reason ?? status}): ${body?.message ?? JSON.stringify(body)}\n` };
    }
    if (request.name !== undefined) return { code: 0, stdout: asKubectlPrints(body), stderr: '' };
    // kubectl prints a list as a `List` whose items carry their kind (the API server leaves it out).
    const items = (body.items ?? []).map((item: any) => ({ apiVersion: resource.apiVersion, kind: resource.kind, ...item }));
    return { code: 0, stdout: asKubectlPrints({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }), stderr: '' };
  }

  /** The one resource `type` names (plural, singular, kind or short name, optionally `.<group>`), as kubectl picks it. */
  private async resolve(type: string): Promise<Resource | undefined> {
    const match = (resources: Resource[]) => {
      const lower = type.toLowerCase();
      const candidates = resources.filter(r => {
        const names = [r.plural, r.singular, r.kind.toLowerCase(), ...r.shortNames];
        return names.includes(lower) || names.some(n => r.group && lower === `${n}.${r.group}`);
      });
      // kubectl prefers the core group (`events` also exists in events.k8s.io, `pods` in metrics.k8s.io).
      const core = candidates.filter(r => r.group === '');
      if (core.length === 1) return core[0];
      return candidates.length === 1 ? candidates[0] : undefined;
    };
    if (!this.resources) await this.discover();
    const found = this.resources && match(this.resources);
    if (found || !this.resources || Date.now() - this.discoveredAt < REDISCOVER_AFTER_MS) return found;
    await this.discover();
    return this.resources && match(this.resources);
  }

  /** Reads the aggregated discovery (Kubernetes 1.30 and later); without it this module answers nothing. */
  private async discover(): Promise<void> {
    this.discoveredAt = Date.now();
    const resources: Resource[] = [];
    for (const root of ['/api', '/apis']) {
      const { status, body } = await this.request(root, DISCOVERY_ACCEPT);
      if (status !== 200 || body?.kind !== 'APIGroupDiscoveryList') {
        this.unsupported = true;
        return;
      }
      for (const group of body.items ?? []) {
        const name: string = group.metadata?.name ?? '';
        const preferred = group.versions?.[0];
        if (!preferred) continue;
        for (const r of preferred.resources ?? []) {
          resources.push({
            base: name ? `/apis/${name}/${preferred.version}` : `/api/${preferred.version}`,
            group: name,
            plural: r.resource,
            singular: r.singularResource ?? '',
            kind: r.responseKind?.kind ?? '',
            shortNames: r.shortNames ?? [],
            namespaced: r.scope === 'Namespaced',
            apiVersion: name ? `${name}/${preferred.version}` : preferred.version,
          });
        }
      }
    }
    this.resources = resources;
  }

  private request(path: string, accept: string): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const req = https.get(`${this.server}${path}`, { agent: this.agent, headers: { accept }, timeout: REQUEST_TIMEOUT_MS }, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { message: text } });
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', reject);
    });
  }
}

/** JSON as `kubectl get -o json` prints it: keys sorted, no `metadata.managedFields` (kubectl hides them). */
function asKubectlPrints(value: unknown): string {
  const sorted = (v: any, parentKey?: string): any => {
    if (Array.isArray(v)) return v.map(e => sorted(e));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) {
      if (parentKey === 'metadata' && key === 'managedFields') continue;
      out[key] = sorted(v[key], key);
    }
    return out;
  };
  return JSON.stringify(sorted(value));
}

/** The API servers of the kubeconfigs seen, by the kubeconfig's text (a cluster made again gets a new one). */
const servers = new Map<string, ApiServer | undefined>();

/** The kubeconfig's current context, when it is a server with embedded certificates (what the cluster program writes). */
function serverOf(kubeconfig: string): ApiServer | undefined {
  let text: string;
  try {
    text = fs.readFileSync(kubeconfig, 'utf-8');
  } catch {
    return undefined;
  }
  if (servers.has(text)) return servers.get(text);
  let server: ApiServer | undefined;
  try {
    const config = YAML.parse(text);
    const context = config.contexts?.find((c: any) => c.name === config['current-context'])?.context;
    const cluster = config.clusters?.find((c: any) => c.name === context?.cluster)?.cluster;
    const user = config.users?.find((u: any) => u.name === context?.user)?.user;
    const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);
    const ca = b64(cluster?.['certificate-authority-data']);
    const cert = b64(user?.['client-certificate-data']);
    const key = b64(user?.['client-key-data']);
    if (cluster?.server?.startsWith('https://') && ca && cert && key) {
      server = new ApiServer(cluster.server.replace(/\/$/, ''), { ca, cert, key }, context.namespace ?? 'default');
    }
  } catch {
    server = undefined;
  }
  servers.set(text, server);
  return server;
}

/**
 * kubectl's result for `args` in the cluster of `kubeconfig` (stdout as `kubectl ... -o json`
 * prints it; code 1 and kubectl's message on an error), or undefined if kubectl must answer.
 */
export async function apiGet(kubeconfig: string | undefined, args: string[]): Promise<RunResult | undefined> {
  const request = parseGet(args);
  if (!request || !kubeconfig || kubeconfig.includes(':')) return undefined;
  const server = serverOf(kubeconfig);
  if (!server) return undefined;
  try {
    return await server.get(request);
  } catch {
    // Discovery itself failed (the API server not up yet): kubectl says why.
    return undefined;
  }
}
