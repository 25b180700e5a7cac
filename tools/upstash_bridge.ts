/**
 * A local stand-in for Upstash's REST API in front of a real redis-server, so that the
 * production client `@upstash/redis` runs unchanged against it in development and tests.
 * Protocol: shared/reference/UPSTASH_REST.md. Replies are relayed as Redis sent them (no
 * ioredis reply transformation, see upstash_bridge/raw_command.ts), and the bridge counts the
 * commands Upstash would bill (upstash_bridge/billing.ts).
 *
 * Run: `BRIDGE_TOKEN=secret deno task bridge` (env REDIS_URL, PORT optional); the bill so far:
 * `curl -H "Authorization: Bearer secret" localhost:8079/_bridge/commands`.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { Redis, ReplyError } from "ioredis";
import { CommandCounter, type CommandCounts } from "./upstash_bridge/billing.ts";
import { toCommand } from "./upstash_bridge/commands.ts";
import { RawCommand, sendRaw } from "./upstash_bridge/raw_command.ts";

export type { CommandCounts } from "./upstash_bridge/billing.ts";

/** Options of {@link startBridge}. */
export interface BridgeOptions {
  /** Redis to forward to, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** Token the clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  hostname?: string;
}

/** A running bridge. */
export interface Bridge {
  /** Base URL to give to `new Redis({ url, token })`. */
  url: string;
  /**
   * Billable commands sent to Redis since the start or the last {@link Bridge.resetCommands},
   * counted as Upstash bills them (one per command, pipelined or not; see billing.ts).
   * Over HTTP: `GET /_bridge/commands` with the bearer token.
   */
  commands(): CommandCounts;
  /** Starts the count again from zero. Over HTTP: `DELETE /_bridge/commands`. */
  resetCommands(): void;
  /** Stops the HTTP server (waiting for requests in flight) and the Redis connections. */
  close(): Promise<void>;
}

type Item = { result: unknown } | { error: string };

/** How many idle transaction connections are kept for reuse. */
const POOL_IDLE_MAX = 4;

const sha256 = (s: string) => createHash("sha256").update(s).digest();
const message = (e: unknown) => e instanceof Error ? e.message : String(e);

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * The bridge's own paths, never read as the path form of a Redis command (no Redis command
 * name starts with `_`, so no command is shadowed).
 */
const OWN_PREFIX = "/_bridge";
const COUNTS_PATH = `${OWN_PREFIX}/commands`;

/**
 * Turns a raw Redis reply into JSON: strings (buffers) as base64 of the raw bytes with `b64`,
 * else as UTF-8 text (arrays are fixed up in place: a long XRANGE reply is not copied).
 */
function encode(v: unknown, b64: boolean): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== "string") v[i] = encode(x, b64);
      else if (b64) v[i] = Buffer.from(x).toString("base64");
    }
    return v;
  }
  if (Buffer.isBuffer(v)) return v.toString(b64 ? "base64" : "utf8");
  if (typeof v === "string") return b64 ? Buffer.from(v).toString("base64") : v;
  if (v instanceof Error) return encode(v.message, b64);
  return v ?? null;
}

/** Opens a Redis connection (rejects if Redis is unreachable); never re-sends after a reconnect. */
async function connect(url: string, offlineQueue: boolean): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: offlineQueue,
  });
  // Failures reach the requests that hit them; keep the last one for the connect error.
  let lastError: unknown;
  redis.on("error", (e) => lastError = e);
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis: ${message(lastError ?? e)}`);
  }
  return redis;
}

/**
 * Starts the bridge: an HTTP server speaking the Upstash REST protocol (`POST /`,
 * `/pipeline`, `/multi-exec`, and the path form `/set/key/value`) in front of `redisUrl`.
 *
 * @example
 * ```ts
 * const bridge = await startBridge({ redisUrl: "redis://127.0.0.1:6379", token: "secret" });
 * const redis = new Redis({ url: bridge.url, token: "secret" }); // from @upstash/redis
 * await redis.get("k");
 * bridge.commands(); // { total: 1, byName: { GET: 1 } }
 * await bridge.close();
 * ```
 */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const { redisUrl, port = 0, hostname = "127.0.0.1" } = opts;
  const expected = sha256(`Bearer ${opts.token}`);
  const redis = await connect(redisUrl, true);
  const idle: Redis[] = [];
  const all = new Set<Redis>([redis]);
  const bill = new CommandCounter();
  let closed = false;

  async function single(cmd: string[], b64: boolean): Promise<Response> {
    bill.count(cmd[0]);
    try {
      const result = await sendRaw(redis, cmd);
      return json({ result: encode(result, b64) });
    } catch (e) {
      return json({ error: message(e) }, e instanceof ReplyError ? 400 : 500);
    }
  }

  async function pipeline(body: unknown[], b64: boolean): Promise<Response> {
    const items: Item[] = new Array(body.length);
    const sent: number[] = [];
    // Pipeline#sendCommand is not in ioredis's typings; it queues a ready-made command.
    const p = redis.pipeline() as unknown as { sendCommand(c: RawCommand): unknown } & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (let i = 0; i < body.length; i++) {
      const cmd = toCommand(body[i]);
      if (typeof cmd === "string") items[i] = { error: cmd };
      else {
        p.sendCommand(new RawCommand(cmd[0], cmd.slice(1)));
        bill.count(cmd[0]);
        sent.push(i);
      }
    }
    if (sent.length > 0) {
      const replies = (await p.exec()) ?? [];
      for (let j = 0; j < sent.length; j++) {
        const [err, val] = replies[j] ?? [new Error("ERR no reply"), null];
        items[sent[j]] = err ? { error: err.message } : { result: encode(val, b64) };
      }
    }
    return json(items);
  }

  async function transaction(body: unknown[], b64: boolean): Promise<Response> {
    const cmds = body.map(toCommand);
    const bad = cmds.find((c): c is string => typeof c === "string");
    if (bad !== undefined) {
      return json(
        { error: `EXECABORT Transaction discarded because of previous errors. (${bad})` },
        400,
      );
    }
    const conn = idle.pop() ?? await connect(redisUrl, false);
    all.add(conn);
    let healthy = true;
    try {
      const queued = [sendRaw(conn, ["MULTI"])];
      for (const c of cmds as string[][]) {
        queued.push(sendRaw(conn, c));
        bill.count(c[0]);
      }
      const exec = sendRaw(conn, ["EXEC"]);
      const settled = await Promise.allSettled(queued);
      let replies: unknown;
      try {
        replies = await exec;
      } catch (e) {
        healthy = e instanceof ReplyError;
        const cause = settled.find((s) => s.status === "rejected");
        const why = cause ? ` (${message((cause as PromiseRejectedResult).reason)})` : "";
        return json({ error: message(e) + why }, healthy ? 400 : 500);
      }
      if (!Array.isArray(replies)) return json({ error: "ERR transaction aborted" }, 400);
      return json(
        replies.map((v): Item =>
          v instanceof Error ? { error: v.message } : { result: encode(v, b64) }
        ),
      );
    } catch (e) {
      healthy = false;
      return json({ error: message(e) }, 500);
    } finally {
      if (healthy && !closed && idle.length < POOL_IDLE_MAX) idle.push(conn);
      else {
        all.delete(conn);
        conn.disconnect();
      }
    }
  }

  async function handle(req: Request): Promise<Response> {
    const got = sha256(req.headers.get("authorization") ?? "");
    if (!timingSafeEqual(got, expected)) return json({ error: "Unauthorized" }, 401);
    const b64 = req.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    const path = new URL(req.url).pathname.replace(/\/+$/, "");
    if (path === COUNTS_PATH) return counts(req.method);
    if (path === OWN_PREFIX || path.startsWith(`${OWN_PREFIX}/`)) {
      return json({ error: "ERR no such bridge path" }, 404);
    }
    if (path !== "" && path !== "/pipeline" && path !== "/multi-exec") {
      // Path form: POST /set/key/value (a non-empty body is appended as the last argument).
      const args = path.slice(1).split("/").map(decodeURIComponent);
      const text = req.method === "POST" ? await req.text() : "";
      if (text !== "") args.push(text);
      const cmd = toCommand(args);
      return typeof cmd === "string" ? json({ error: cmd }, 400) : single(cmd, b64);
    }
    if (req.method !== "POST") return json({ error: "ERR use POST" }, 405);
    let body: unknown;
    try {
      body = JSON.parse(await req.text());
    } catch {
      return json({ error: "ERR malformed JSON body" }, 400);
    }
    if (path === "") {
      const cmd = toCommand(body);
      return typeof cmd === "string" ? json({ error: cmd }, 400) : single(cmd, b64);
    }
    if (!Array.isArray(body) || body.length === 0) {
      return json({ error: "ERR body must be a non-empty array of commands" }, 400);
    }
    return path === "/pipeline" ? pipeline(body, b64) : transaction(body, b64);
  }

  /** `GET` reads the billable-command counts, `DELETE` reads them and starts again. */
  function counts(method: string): Response {
    if (method !== "GET" && method !== "DELETE") {
      return json({ error: "ERR use GET or DELETE" }, 405);
    }
    const now = bill.snapshot();
    if (method === "DELETE") bill.reset();
    return json(now);
  }

  const server = Deno.serve({ port, hostname, onListen() {} }, async (req) => {
    try {
      return await handle(req);
    } catch (e) {
      return json({ error: message(e) }, 500);
    }
  });

  return {
    url: `http://${hostname}:${server.addr.port}`,
    commands: () => bill.snapshot(),
    resetCommands: () => bill.reset(),
    async close() {
      closed = true;
      await server.shutdown();
      await Promise.all([...all].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

if (import.meta.main) {
  const token = Deno.env.get("BRIDGE_TOKEN");
  if (!token) {
    console.error("BRIDGE_TOKEN is required (the token clients send as Bearer)");
    Deno.exit(1);
  }
  const bridge = await startBridge({
    redisUrl: Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379",
    token,
    port: Number(Deno.env.get("PORT") ?? 8079),
  });
  console.log(`upstash bridge listening on ${bridge.url}`);
  const stop = async () => {
    await bridge.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
