/**
 * A small HTTP/1.1 client for one job: POST a JSON body to one origin over pooled keep-alive
 * connections (TCP or TLS) and read the whole answer.
 *
 * Why not `fetch`: the push benchmark sends thousands of WeChat calls a second from one event
 * loop, and there `fetch` cost about 120 µs of CPU per call (Request, Headers, Response, body
 * streams, the abort signal) against about 30 µs for this client on the same machine and run
 * (docs/performance.md). That CPU was the broadcast's ceiling. The client speaks only what that
 * call needs: one request at a time per connection, `Content-Length` or chunked answers (or
 * close-delimited ones), `Connection: close`, 1xx answers skipped.
 *
 * Every failure says whether the request can have reached the server: {@link PostError.sent}
 * is false only when no byte of it was written (the connection could not be opened, or the write
 * failed), so a caller may retry those and must treat the others as "maybe delivered".
 *
 * An idle connection keeps one read pending, so a connection the server closes while idle is
 * dropped at once and never handed to a request (the stale keep-alive race shrinks to the
 * moment of reuse); idle connections do not keep the process alive and are closed after
 * `idleMs`.
 *
 * @module
 */
import type { PostAnswer } from "./http1_answer.ts";
import { Connection, PostError } from "./http1_connection.ts";

export type { PostAnswer };
export { PostError };

/** Pool settings. */
export interface Http1PoolOptions {
  /** Most idle connections kept per origin. */
  maxIdle: number;
  /** An idle connection is closed after this long, ms. Default 30 s. */
  idleMs?: number;
  /** Extra trusted CA certificates (PEM) for TLS, e.g. a test's own. */
  caCerts?: string[];
}

/** A URL posted to, parsed once. */
interface Target {
  target: URL;
  origin: string;
  /** The request line and headers, up to the value of Content-Length. */
  head: string;
}

/** Most URLs remembered (each API's URL changes with the access token). */
const MAX_TARGETS = 32;

const encoder = new TextEncoder();

/**
 * Pooled keep-alive HTTP/1.1 POSTs.
 *
 * @example
 * ```ts
 * const pool = new Http1Pool({ maxIdle: 64 });
 * const { status, body } = await pool.post("https://api.weixin.qq.com/x?y=1", "{}", 5_000);
 * await pool.close();
 * ```
 */
export class Http1Pool {
  readonly #idle = new Map<string, Connection[]>();
  readonly #open = new Set<Connection>();
  readonly #targets = new Map<string, Target>();
  readonly #idleMs: number;
  #sweeper: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  constructor(private readonly options: Http1PoolOptions) {
    this.#idleMs = options.idleMs ?? 30_000;
  }

  /** Connections open now (in use or idle). */
  get connections(): number {
    return this.#open.size;
  }

  /**
   * POSTs `body` (JSON) to `url` and resolves with the whole answer, or rejects with a
   * {@link PostError} (whose message never contains the URL).
   */
  async post(url: string, body: string, timeoutMs: number): Promise<PostAnswer> {
    if (this.#closed) throw new PostError("connect", false, "the client is closed");
    const { target, origin, head } = this.#targetOf(url);
    const deadline = Date.now() + timeoutMs;
    const conn = this.#takeIdle(origin) ?? await this.#connect(target, origin, timeoutMs);
    const payload = encoder.encode(body);
    const fullHead = `${head}${payload.length}\r\nUser-Agent: formid-ledger\r\n\r\n`;
    // The head is ASCII: one byte per character.
    const request = new Uint8Array(fullHead.length + payload.length);
    encoder.encodeInto(fullHead, request);
    request.set(payload, fullHead.length);
    const answer = await conn.exchange(request, Math.max(1, deadline - Date.now()));
    if (answer.reusable && !this.#closed) this.#release(origin, conn);
    else conn.close();
    return { status: answer.status, body: answer.body };
  }

  /**
   * The parsed URL, its origin and its request head up to the body's length, remembered: a
   * sender posts to a handful of URLs (one per API and access token), thousands of times each.
   */
  #targetOf(url: string): Target {
    let found = this.#targets.get(url);
    if (found === undefined) {
      if (this.#targets.size >= MAX_TARGETS) this.#targets.clear(); // old tokens' URLs
      const target = new URL(url);
      found = {
        target,
        origin: `${target.protocol}//${target.host}`,
        head: `POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
          `Content-Type: application/json\r\nContent-Length: `,
      };
      this.#targets.set(url, found);
    }
    return found;
  }

  /** Closes every connection; posts in flight fail. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    for (const conn of this.#open) conn.close();
    this.#idle.clear();
    return Promise.resolve();
  }

  #takeIdle(origin: string): Connection | undefined {
    const idle = this.#idle.get(origin);
    while (idle && idle.length > 0) {
      const conn = idle.pop()!; // the warmest first
      if (conn.usable(this.#idleMs)) return conn;
      conn.close();
    }
    return undefined;
  }

  #release(origin: string, conn: Connection): void {
    let idle = this.#idle.get(origin);
    if (!idle) this.#idle.set(origin, idle = []);
    if (idle.length >= this.options.maxIdle) return conn.close();
    conn.idle();
    idle.push(conn);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.max(1_000, this.#idleMs / 2));
      Deno.unrefTimer(this.#sweeper);
    }
  }

  #sweep(): void {
    for (const [origin, idle] of this.#idle) {
      const kept = idle.filter((conn) => conn.usable(this.#idleMs) || (conn.close(), false));
      if (kept.length > 0) this.#idle.set(origin, kept);
      else this.#idle.delete(origin);
    }
  }

  async #connect(target: URL, origin: string, timeoutMs: number): Promise<Connection> {
    const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
    const hostname = target.hostname.replace(/^\[|\]$/g, "");
    const opening: Promise<Deno.Conn> = target.protocol === "https:"
      // The handshake (and the certificate check) before a byte of the request is written.
      ? Deno.connectTls({ hostname, port, caCerts: this.options.caCerts }).then(async (tls) => {
        try {
          await tls.handshake();
          return tls;
        } catch (err) {
          tls.close();
          throw err;
        }
      })
      : Deno.connect({ hostname, port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PostError("connect", false, "no connection within the timeout")),
        timeoutMs,
      );
    });
    try {
      const socket = await Promise.race([opening, late]);
      (socket as Partial<Deno.TcpConn>).setNoDelay?.(true);
      const conn = new Connection(socket, () => {
        this.#open.delete(conn);
        const idle = this.#idle.get(origin);
        const at = idle?.indexOf(conn) ?? -1;
        if (at >= 0) idle!.splice(at, 1);
      });
      this.#open.add(conn);
      return conn;
    } catch (err) {
      opening.then((socket) => socket.close(), () => {}); // opened after the timeout: unused
      if (err instanceof PostError) throw err;
      const refused = err instanceof Deno.errors.ConnectionRefused;
      throw new PostError("connect", false, refused ? "connection refused" : "connection failed");
    } finally {
      clearTimeout(timer);
    }
  }
}
