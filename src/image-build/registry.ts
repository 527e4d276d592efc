import type * as http from 'http';
import { findExecutable, runCommand, ToolIo } from './command';

/** Media types a registry may store the image's manifest as; HEAD must accept all of them. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

const TIMEOUT_MS = 15_000;

/** Where a repository lives, in the terms of the registry HTTP API. */
export interface RegistryLocation {
  /** `http://host[:port]` or `https://host[:port]`. */
  readonly baseUrl: string;
  /** Repository path inside the registry, e.g. `acme/todo`. */
  readonly path: string;
}

/** The registry host (with port) and the path of `repository` inside it. */
export function splitRegistry(repository: string): { registry: string; path: string } {
  const slash = repository.indexOf('/');
  const first = slash < 0 ? '' : repository.slice(0, slash);
  // The same rule as docker's reference parser: a first component is a
  // registry only if it looks like a host name.
  if (first.includes('.') || first.includes(':') || first === 'localhost') {
    return { registry: first, path: repository.slice(slash + 1) };
  }
  return { registry: 'docker.io', path: repository };
}

/** Whether the repository's registry is this machine (plain HTTP is then normal). */
export function isLoopbackRegistry(repository: string): boolean {
  const host = splitRegistry(repository).registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The registry API location of `repository`; `insecure` selects plain HTTP. */
export function locateRepository(repository: string, insecure: boolean): RegistryLocation {
  const { registry, path } = splitRegistry(repository);
  if (registry === 'docker.io') {
    // Docker Hub serves its API on another host and puts official images under library/.
    return { baseUrl: 'https://registry-1.docker.io', path: path.includes('/') ? path : `library/${path}` };
  }
  return { baseUrl: `${insecure ? 'http' : 'https'}://${registry}`, path };
}

interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(method: 'GET' | 'HEAD', url: string, headers: Record<string, string>): Promise<HttpAnswer> {
  // Required on the first request, not with the module: every synth loads this module through the
  // library's index but never talks to a registry, and loading http and https cost it 5-15 ms.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const get: typeof http.request = url.startsWith('https:') ? (require('https') as typeof import('https')).request : (require('http') as typeof import('http')).request;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new Promise((resolve, reject) => {
    const req = get(url, { method, headers, timeout: TIMEOUT_MS }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { if (chunks.length < 64) chunks.push(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf-8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', e => reject(new Error(`cannot reach registry at ${new URL(url).origin} (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
    req.end();
  });
}

/**
 * Checks that the registry answers at all, before a build spends minutes on
 * an image it cannot push. Any HTTP answer counts: 401 means "log in", which
 * the push handles.
 * @throws Error when nothing answers on the registry's address
 */
export async function pingRegistry(repository: string, insecure: boolean): Promise<void> {
  const where = locateRepository(repository, insecure);
  await request('GET', `${where.baseUrl}/v2/`, {});
}

/**
 * Checks over the registry API that `repository@digest` exists: an HTTP HEAD on
 * the manifest, with an anonymous token when the registry asks for one.
 * @throws Error when the manifest is absent or cannot be read
 */
export async function checkManifestOverHttp(repository: string, digest: string, insecure: boolean): Promise<void> {
  const where = locateRepository(repository, insecure);
  const url = `${where.baseUrl}/v2/${where.path}/manifests/${digest}`;
  const headers: Record<string, string> = { Accept: MANIFEST_MEDIA_TYPES.join(', ') };
  let answer = await request('HEAD', url, headers);
  if (answer.status === 401) {
    const token = await anonymousToken(String(answer.headers['www-authenticate'] ?? ''), where.path);
    if (token) answer = await request('HEAD', url, { ...headers, Authorization: `Bearer ${token}` });
  }
  if (answer.status === 404) throw new Error(`${repository}@${digest} is not in the registry (HEAD ${url} answered 404)`);
  if (answer.status === 401 || answer.status === 403) {
    throw new Error(`the registry needs credentials to read ${repository} (HEAD ${url} answered ${answer.status}); put crane on PATH so the check uses your docker login`);
  }
  if (answer.status !== 200) throw new Error(`HEAD ${url} answered HTTP ${answer.status}`);
  const served = answer.headers['docker-content-digest'];
  if (served !== undefined && served !== digest) {
    throw new Error(`the registry serves ${served} for ${repository}@${digest}; the pushed image is not the one the build reported`);
  }
}

/** Follows a `Bearer realm=...` challenge anonymously; undefined when there is none. */
async function anonymousToken(challenge: string, path: string): Promise<string | undefined> {
  if (!/^Bearer\s/i.test(challenge)) return undefined;
  const params: Record<string, string> = {};
  for (const m of challenge.matchAll(/(\w+)="([^"]*)"/g)) params[m[1].toLowerCase()] = m[2];
  if (!params.realm) return undefined;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  url.searchParams.set('scope', `repository:${path}:pull`);
  const answer = await request('GET', url.toString(), {});
  if (answer.status !== 200) return undefined;
  try {
    const json = JSON.parse(answer.body) as { token?: string; access_token?: string };
    return json.token ?? json.access_token;
  } catch {
    return undefined;
  }
}

/**
 * Checks that `repository@digest` exists with `crane digest`, which reads the
 * docker login credentials the push used.
 * @throws Error when crane fails or reports another digest
 */
export async function checkManifestWithCrane(crane: string, repository: string, digest: string, insecure: boolean, io: ToolIo): Promise<void> {
  const out = await runCommand({ file: crane, args: ['digest', ...(insecure ? ['--insecure'] : []), `${repository}@${digest}`] }, { ...io, stderr: () => undefined });
  if (out.trim() !== digest) throw new Error(`crane digest ${repository}@${digest} printed "${out.trim()}"`);
}

/**
 * Verifies that the pushed digest exists in the registry: with crane when it is
 * on PATH (it has the credentials), else over HTTP.
 * @returns how it was checked, for the progress line
 */
export async function verifyPushed(repository: string, digest: string, insecure: boolean, io: ToolIo): Promise<'crane digest' | 'HTTP HEAD'> {
  const crane = findExecutable('crane', io.env);
  if (crane) {
    await checkManifestWithCrane(crane, repository, digest, insecure, io);
    return 'crane digest';
  }
  await checkManifestOverHttp(repository, digest, insecure);
  return 'HTTP HEAD';
}
