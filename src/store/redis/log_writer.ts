/**
 * The owner of lib.lua, the prelude of every script that appends to the log: the constants it
 * needs, the KEYS and leading ARGV it reads, and sealing the events a write appended before
 * the write is acknowledged.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { NEVER_RANK } from "../../ledger/credit_rules.ts";
import { BROADCAST_STATE_TTL_MS } from "../../ledger/delivery.ts";
import { CREDIT_SEPARATOR, KIND_LETTER, NO_EXPIRY_SCORE } from "./credit_value.ts";
import { ENTRY_FIELD, FIELD_SEPARATOR, TYPE_CODE } from "./entry.ts";
import type { LedgerKeys } from "./keys.ts";
import { loadScript, type LuaConstants, type LuaScript, scriptSource } from "./scripts.ts";
import type { Sealer } from "./sealer.ts";

/**
 * What lib.lua receives (see its header); every writing script gets these and its own.
 *
 * @example
 * ```ts
 * luaConstants(LIB_CONSTANTS); // "local NO_EXPIRY_SCORE = 253402300799999\n..."
 * ```
 */
export const LIB_CONSTANTS: LuaConstants = {
  NEVER_RANK,
  NO_EXPIRY_SCORE,
  KIND_LETTER,
  CREDIT_SEPARATOR,
  FIELD_SEPARATOR,
  ENTRY_FIELD,
  ENTRY_CODE: { FormIdConsumed: TYPE_CODE.FormIdConsumed, PushFailed: TYPE_CODE.PushFailed },
  BROADCAST_STATE_TTL_MS,
};

/**
 * The source of a writing script: lib.lua's constants and the script's own, lib.lua, then
 * `lua/<name>.lua`.
 *
 * @example
 * ```ts
 * const TAKE_LUA = writingScriptSource("take", { STATE_LOST: "u" });
 * ```
 */
export function writingScriptSource(name: string, constants: LuaConstants = {}): string {
  return scriptSource(["lib", name], { ...LIB_CONSTANTS, ...constants });
}

/** One line about an error, without a stack. */
function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : typeof err;
}

/**
 * Runs writing scripts for one ledger. Each script's owner builds its ARGV on top of
 * {@link LogWriter.args} (lib.lua's ARGV[1..3]), so the arguments are built in one array.
 *
 * @example
 * ```ts
 * const args = log.args(now);
 * args.push(openId, pushId);
 * await log.write("take", script, args);
 * ```
 */
export class LogWriter {
  readonly #keys: string[];
  readonly #prefix: string;
  readonly #segmentEvents: string;

  constructor(
    readonly redis: Redis,
    keys: LedgerKeys,
    prefix: string,
    segmentEvents: number,
    readonly sealer: Sealer,
  ) {
    this.#keys = [keys.head, keys.projection];
    this.#prefix = prefix;
    this.#segmentEvents = String(segmentEvents);
  }

  /** Loads a writing script (see {@link writingScriptSource}). */
  load(source: string): LuaScript {
    return loadScript(this.redis, source);
  }

  /** A new ARGV holding what lib.lua reads: prefix, now, segment size of a new log. */
  args(now: number): string[] {
    return [this.#prefix, String(now), this.#segmentEvents];
  }

  /** Runs a writing script; its events are not sealed yet (see {@link LogWriter.sealAfter}). */
  exec<T>(script: LuaScript, args: string[]): Promise<T> {
    return script.exec(this.#keys, args) as Promise<T>;
  }

  /** Runs a writing script and seals its events before answering. */
  async write<T>(name: string, script: LuaScript, args: string[]): Promise<T> {
    const result = await this.exec<T>(script, args);
    await this.sealAfter(name, () => this.sealer.seal());
    return result;
  }

  /**
   * The events are in the hash chain before the write is acknowledged. A failed seal does not
   * fail the write (it is done, and a retry would repeat it): any later seal catches up.
   */
  async sealAfter(name: string, seal: () => Promise<unknown>): Promise<void> {
    try {
      await seal();
    } catch (err) {
      console.error(`ledger: sealing after ${name} failed: ${errorText(err)}`);
    }
  }
}
