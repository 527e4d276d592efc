import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';

/**
 * A registry that knows only the v2 ping and manifest HEADs: enough for the
 * build's reachability check and digest verification, over real HTTP.
 */
export class FakeRegistry {
  /** Starts listening on a free 127.0.0.1 port. */
  public static async start(): Promise<FakeRegistry> {
    const registry = new FakeRegistry();
    await new Promise<void>(resolve => registry.server.listen(0, '127.0.0.1', resolve));
    return registry;
  }

  /** `repository@digest` pairs the registry answers 200 for. */
  public readonly manifests = new Set<string>();
  /** Requests seen, as `METHOD path accept`. */
  public readonly requests: string[] = [];
  /**
   * When set, manifests need `Authorization: Bearer <token>`, handed out
   * anonymously by /token like Docker Hub and GHCR do for public images;
   * `'refuse'` makes /token answer 401 (a private repository).
   */
  public token?: string;
  private readonly server = http.createServer((req, res) => {
    this.requests.push(`${req.method} ${req.url} ${req.headers.accept ?? ''}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      if (this.token === 'refuse' || url.searchParams.get('service') !== 'fake' || !/^repository:[a-z/]+:pull$/.test(url.searchParams.get('scope') ?? '')) {
        res.writeHead(401).end();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: this.token }));
      }
      return;
    }
    if (this.token !== undefined && req.url !== '/v2/' && req.headers.authorization !== `Bearer ${this.token}`) {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${this.host}/token",service="fake",scope="x"` }).end();
      return;
    }
    if (req.url === '/v2/') {
      res.writeHead(200).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '');
    if (req.method === 'HEAD' && m && this.manifests.has(`${this.host}/${m[1]}@${m[2]}`)) {
      res.writeHead(200, { 'Docker-Content-Digest': m[2], 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end();
      return;
    }
    res.writeHead(404).end();
  });

  private constructor() {}

  /** `127.0.0.1:<port>`. */
  public get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops the server. */
  public stop(): Promise<void> {
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}

/** Writes an executable bash script. */
export function writeScript(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`, { mode: 0o755 });
  return file;
}

/** The value after `flag` in a recorded argument list. */
export function argAfter(args: string[], flag: string): string {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`${flag} not in ${args.join(' ')}`);
  return args[i + 1];
}

