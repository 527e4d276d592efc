import { ChildProcess } from 'child_process';
import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

/** What the live view's server serves: the latest snapshot, and events and logs on demand ({@link ClusterReader} is one). */
export interface LiveSource {
  /** The latest snapshot of the cluster, if it was read yet. */
  readonly state: unknown;
  /** The recent events of one object. */
  events(namespace: string, kind: string, name: string): Promise<unknown>;
  /** A running `kubectl logs` of a pod; killed when the reader goes away. */
  logs(namespace: string, pod: string, container: string | undefined, tail: number, follow: boolean): ChildProcess;
}

/** Options of {@link LiveViewServer.start}. */
export interface LiveViewServerOptions {
  /** The page, with the nonce its scripts must carry (the Content-Security-Policy admits only those). */
  readonly page: (nonce: string) => string;
  /** Where the data comes from. */
  readonly source: LiveSource;
  /**
   * Port on 127.0.0.1.
   * @default 0 - a free port
   */
  readonly port?: number;
  /**
   * The token every request must carry.
   * @default - 32 random bytes, hex
   */
  readonly token?: string;
}

/** The cookie the first response with the token sets, so the page's own requests carry it. */
export const TOKEN_COOKIE = 'gitops_view_token';

/** Whether `given` is `expected`, in a time that does not depend on where they differ. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the token's length.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * The live view's HTTP server, on 127.0.0.1 only. Every request must carry
 * the token, in the URL's `token` parameter (the URL printed) or in the
 * HttpOnly, SameSite=Strict cookie the first such response sets; anything
 * else gets 403, so another local user or a web page in the same browser
 * cannot read the cluster through it. The Host header must name 127.0.0.1
 * or localhost (no DNS rebinding). The page may load nothing from
 * elsewhere: its Content-Security-Policy admits only its own inline
 * scripts (by nonce) and connections to this server.
 *
 * Routes: `/` the page; `/api/state` the snapshot; `/api/stream` the
 * snapshots as server-sent events; `/api/events?namespace=&kind=&name=`;
 * `/api/logs?namespace=&pod=&container=&tail=&follow=1`.
 */
export class LiveViewServer {
  /** Starts the server; rejects with a clear message when the port is taken. */
  public static async start(options: LiveViewServerOptions): Promise<LiveViewServer> {
    const server = new LiveViewServer(options);
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE'
        ? new Error(`port ${options.port} on 127.0.0.1 is in use: choose another with --port, or leave --port out for a free one`)
        : e));
      server.http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  /** The token requests must carry. */
  public readonly token: string;
  private readonly http: http.Server;
  private readonly streams = new Set<http.ServerResponse>();

  private constructor(private readonly options: LiveViewServerOptions) {
    this.token = options.token ?? randomBytes(32).toString('hex');
    this.http = http.createServer((req, res) => this.handle(req, res));
  }

  /** The port it listens on. */
  public get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** The URL to open: the page, with the token. */
  public get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.token}`;
  }

  /** Sends a new snapshot to every open page. */
  public publish(state: unknown): void {
    const message = `data: ${JSON.stringify(state)}\n\n`;
    for (const res of this.streams) res.write(message);
  }

  /** Stops listening and drops every connection (open pages then show the connection lost). */
  public close(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
    return new Promise(resolve => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${this.port}` && host !== `localhost:${this.port}`) {
      return this.send(res, 403, 'text/plain', `forbidden: Host "${host}" is not this server (open http://127.0.0.1:${this.port}/)\n`);
    }
    const fromQuery = url.searchParams.get('token') ?? undefined;
    const fromCookie = cookie(req.headers.cookie, TOKEN_COOKIE);
    if (!tokenMatches(this.token, fromQuery) && !tokenMatches(this.token, fromCookie)) {
      return this.send(res, 403, 'text/plain', 'forbidden: open the URL `view --cluster` printed; it carries the token\n');
    }
    if (tokenMatches(this.token, fromQuery)) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (req.method !== 'GET') return this.send(res, 405, 'text/plain', 'only GET: the view reads, it never changes anything\n');
    const q = (name: string) => url.searchParams.get(name) ?? '';
    switch (url.pathname) {
      case '/':
        return this.send(res, 200, 'text/html; charset=utf-8', this.options.page(nonce));
      case '/api/state':
        return this.options.source.state === undefined
          ? this.send(res, 503, 'application/json', JSON.stringify({ error: 'the cluster was not read yet' }))
          : this.send(res, 200, 'application/json', JSON.stringify(this.options.source.state));
      case '/api/stream':
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        if (this.options.source.state !== undefined) res.write(`data: ${JSON.stringify(this.options.source.state)}\n\n`);
        this.streams.add(res);
        req.on('close', () => this.streams.delete(res));
        return;
      case '/api/events':
        this.options.source.events(q('namespace'), q('kind'), q('name')).then(
          events => this.send(res, 200, 'application/json', JSON.stringify(events)),
          e => this.send(res, 400, 'application/json', JSON.stringify({ error: (e as Error).message })));
        return;
      case '/api/logs':
        return this.logs(q, req, res);
      default:
        return this.send(res, 404, 'text/plain', `no ${url.pathname} here\n`);
    }
  }

  /** Streams `kubectl logs` to the response; the kubectl is killed when the page stops reading. */
  private logs(q: (name: string) => string, req: http.IncomingMessage, res: http.ServerResponse): void {
    let child: ChildProcess;
    try {
      child = this.options.source.logs(q('namespace'), q('pod'), q('container') || undefined, Number(q('tail') || 200), q('follow') === '1');
    } catch (e) {
      return this.send(res, 400, 'text/plain', `${(e as Error).message}\n`);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    child.stdout!.pipe(res, { end: false });
    child.stderr!.on('data', (d: Buffer) => res.write(d));
    child.on('close', () => res.end());
    req.on('close', () => child.kill('SIGTERM'));
  }

  private send(res: http.ServerResponse, status: number, type: string, body: string): void {
    if (res.headersSent) return void res.end();
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  }
}

/** The value of cookie `name` in a Cookie header. */
function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
