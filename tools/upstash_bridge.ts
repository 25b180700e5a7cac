/**
 * A local stand-in for Upstash's REST API in front of a real redis-server, so that the
 * production client `@upstash/redis` runs unchanged against it in development and tests.
 * Protocol: shared/reference/UPSTASH_REST.md.
 *
 * Run: `BRIDGE_TOKEN=secret deno task bridge` (env REDIS_URL, PORT optional).
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { Redis, ReplyError } from "ioredis";

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
  /** Stops the HTTP server (waiting for requests in flight) and the Redis connections. */
  close(): Promise<void>;
}

type Item = { result: unknown } | { error: string };

/** Commands Upstash's REST API does not serve: blocking, pub/sub and connection state. */
const UNAVAILABLE = new Set([
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "SYNC",
  "PSYNC",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "SWAPDB",
  "QUIT",
  "RESET",
  "HELLO",
  "AUTH",
]);

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

/** Validates one JSON command; returns its string arguments, or an error text. */
function toCommand(raw: unknown): string[] | string {
  if (!Array.isArray(raw) || raw.length === 0) return "ERR command must be a non-empty array";
  const args: string[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i];
    if (typeof a === "string") args[i] = a;
    else if (typeof a === "number" || typeof a === "boolean") args[i] = String(a);
    else return `ERR argument ${i} must be a string, number or boolean`;
  }
  const name = args[0].toUpperCase();
  if (UNAVAILABLE.has(name) || ((name === "XREAD" || name === "XREADGROUP") && hasBlock(args))) {
    return `ERR Command is not available over REST: '${args[0]}'`;
  }
  return withoutUpstashFlags(name, args);
}

/**
 * Script flags only Upstash knows (`#!lua flags=allow-key-locking`, which `@upstash/ratelimit`
 * sends): redis-server refuses them, Upstash accepts them. The bridge drops them from EVAL and
 * remembers the original script's SHA1, so an EVALSHA of the original still finds the script.
 */
const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);
const scriptAliases = new Map<string, string>();
const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

function withoutUpstashFlags(name: string, args: string[]): string[] {
  if ((name === "EVAL" || name === "EVAL_RO") && args[1]?.startsWith("#!")) {
    const newline = args[1].indexOf("\n");
    const first = newline < 0 ? args[1] : args[1].slice(0, newline);
    const kept = first.replace(/flags=(\S*)/, (_, list: string) => {
      const flags = list.split(",").filter((f) => f !== "" && !UPSTASH_ONLY_FLAGS.has(f));
      return flags.length > 0 ? `flags=${flags.join(",")}` : "";
    }).trimEnd();
    if (kept === first) return args;
    const script = kept + (newline < 0 ? "" : args[1].slice(newline));
    scriptAliases.set(sha1(args[1]), sha1(script));
    return [args[0], script, ...args.slice(2)];
  }
  if ((name === "EVALSHA" || name === "EVALSHA_RO") && args[1] !== undefined) {
    const alias = scriptAliases.get(args[1].toLowerCase());
    if (alias !== undefined) return [args[0], alias, ...args.slice(2)];
  }
  return args;
}

/** True when an XREAD/XREADGROUP has a BLOCK option (before STREAMS). */
function hasBlock(args: string[]): boolean {
  for (let i = 1; i < args.length; i++) {
    const a = args[i].toUpperCase();
    if (a === "STREAMS") return false;
    if (a === "BLOCK") return true;
  }
  return false;
}

/**
 * Turns an ioredis reply into JSON: with `b64`, a buffer reply's strings as base64 of the raw
 * bytes; without, a string reply as it is (arrays are fixed up in place: a long XRANGE reply
 * is not copied).
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

/**
 * Sends one command: as buffers when the client asked for base64 (binary-safe), else as
 * strings, which ioredis decodes straight from the socket (several times cheaper on long
 * replies than a buffer per string converted afterwards).
 */
function send(target: Redis, cmd: string[], b64: boolean): Promise<unknown> {
  return b64 ? target.callBuffer(cmd[0], cmd.slice(1)) : target.call(cmd[0], cmd.slice(1));
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
 */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const { redisUrl, port = 0, hostname = "127.0.0.1" } = opts;
  const expected = sha256(`Bearer ${opts.token}`);
  const redis = await connect(redisUrl, true);
  const idle: Redis[] = [];
  const all = new Set<Redis>([redis]);
  let closed = false;

  async function single(cmd: string[], b64: boolean): Promise<Response> {
    try {
      const result = await send(redis, cmd, b64);
      return json({ result: encode(result, b64) });
    } catch (e) {
      return json({ error: message(e) }, e instanceof ReplyError ? 400 : 500);
    }
  }

  async function pipeline(body: unknown[], b64: boolean): Promise<Response> {
    const items: Item[] = new Array(body.length);
    const sent: number[] = [];
    const p = redis.pipeline();
    for (let i = 0; i < body.length; i++) {
      const cmd = toCommand(body[i]);
      if (typeof cmd === "string") items[i] = { error: cmd };
      else {
        if (b64) p.callBuffer(cmd[0], cmd.slice(1));
        else p.call(cmd[0], cmd.slice(1));
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
      const queued = [conn.call("MULTI")];
      for (const c of cmds as string[][]) queued.push(send(conn, c, b64));
      const exec = b64 ? conn.callBuffer("EXEC") : conn.call("EXEC");
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

  const server = Deno.serve({ port, hostname, onListen() {} }, async (req) => {
    try {
      return await handle(req);
    } catch (e) {
      return json({ error: message(e) }, 500);
    }
  });

  return {
    url: `http://${hostname}:${server.addr.port}`,
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
