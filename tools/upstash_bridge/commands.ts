/**
 * What the bridge accepts as one REST command: a non-empty JSON array of strings, numbers and
 * booleans, naming a command Upstash serves over REST. Script flags only Upstash knows are
 * dropped on the way to redis-server.
 */
import { createHash } from "node:crypto";

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

/**
 * Validates one JSON command; returns its arguments as strings (numbers and booleans
 * converted, Upstash-only script flags dropped), or an error text for the client.
 *
 * @example
 * ```ts
 * toCommand(["SET", "k", 12.5]); // ["SET", "k", "12.5"]
 * toCommand(["BLPOP", "l", 0]); // "ERR Command is not available over REST: 'BLPOP'"
 * ```
 */
export function toCommand(raw: unknown): string[] | string {
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
