/**
 * Loads the Lua scripts. Constants a script shares with TypeScript (the no-expiry score, kind
 * and state letters, separators, errcodes) are defined once in TypeScript and handed to the
 * script here: its source starts with a generated block of `local NAME = value` lines, and the
 * .lua files use the names, never a copy of the values. Each script has one TypeScript owner
 * that picks its constants, builds its KEYS and ARGV and parses its reply.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";

/**
 * A loaded Lua script: EVALSHA, falling back to EVAL on NOSCRIPT (`redis.createScript`).
 *
 * @example
 * ```ts
 * const script: LuaScript = redis.createScript(source);
 * ```
 */
export interface LuaScript {
  exec(keys: string[], args: string[]): Promise<unknown>;
}

/**
 * A constant a script can receive: a string, a number, or a table of them.
 *
 * @example
 * ```ts
 * const letters: LuaValue = { form: "f", prepay: "p" };
 * ```
 */
export type LuaValue = string | number | Readonly<Record<string, string | number>>;

/**
 * Constants by their Lua name.
 *
 * @example
 * ```ts
 * const constants: LuaConstants = { NO_EXPIRY_SCORE: 253402300799999 };
 * ```
 */
export type LuaConstants = Readonly<Record<string, LuaValue>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const bytes = new TextEncoder();

/**
 * A Lua string literal of `text`: printable ASCII as it is, every other byte (quotes,
 * backslashes, control characters, UTF-8) as a `\ddd` escape.
 */
function luaString(text: string): string {
  let out = '"';
  for (const byte of bytes.encode(text)) {
    const plain = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    out += plain ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, "0")}`;
  }
  return `${out}"`;
}

function luaLiteral(value: string | number): string {
  if (typeof value === "string") return luaString(value);
  // Lua 5.1 numbers are doubles: an integer beyond 2^53 would not survive the trip.
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  return String(value);
}

function luaName(name: string): string {
  if (!NAME.test(name)) throw new SyntaxError(`${JSON.stringify(name)} is not a Lua name`);
  return name;
}

/**
 * The block of `local NAME = value` lines that hands `constants` to a script.
 *
 * @example
 * ```ts
 * luaConstants({ NO_EXPIRY_SCORE: 253402300799999, KIND_LETTER: { form: "f" } });
 * // local NO_EXPIRY_SCORE = 253402300799999
 * // local KIND_LETTER = { form = "f" }
 * ```
 */
export function luaConstants(constants: LuaConstants): string {
  if (Object.keys(constants).length === 0) return "";
  const lines = ["-- Constants handed over by TypeScript (src/store/redis/scripts.ts)."];
  for (const [name, value] of Object.entries(constants)) {
    const literal = typeof value === "object"
      ? `{ ${
        Object.entries(value).map(([key, v]) => `${luaName(key)} = ${luaLiteral(v)}`).join(", ")
      } }`
      : luaLiteral(value);
    lines.push(`local ${luaName(name)} = ${literal}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The text of `lua/<name>.lua`.
 *
 * @example
 * ```ts
 * luaFile("view"); // "-- view.lua: one user's projection hash ..."
 * ```
 */
export function luaFile(name: string): string {
  return Deno.readTextFileSync(new URL(`./lua/${name}.lua`, import.meta.url));
}

/**
 * A script's source: its constants, then its file(s) in order.
 *
 * @example
 * ```ts
 * const source = scriptSource(["seal"], { STORED_HASH_LENGTH: 43 });
 * ```
 */
export function scriptSource(files: string[], constants: LuaConstants = {}): string {
  return luaConstants(constants) + files.map(luaFile).join("\n");
}

/**
 * Loads a script's source into a client.
 *
 * @example
 * ```ts
 * const view = loadScript(redis, scriptSource(["view"]));
 * await view.exec([keys.projection], [prefix, openId]);
 * ```
 */
export function loadScript(redis: Redis, source: string): LuaScript {
  return redis.createScript(source) as LuaScript;
}
