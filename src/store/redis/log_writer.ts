/**
 * The owner of lib.lua, the prelude of every script that appends to the log: the constants it
 * needs, the KEYS and leading ARGV it reads, and sealing the events a write appended before
 * the write is acknowledged.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { BROADCAST_STATE_TTL_MS } from "../../ledger/delivery.ts";
import { LONG_TERM_PREFIX } from "../../ledger/credit_rules.ts";
import { CREDIT_VALUE_CONSTANTS } from "./credit_value.ts";
import { ENTRY_FIELD, FIELD_SEPARATOR, TYPE_CODE } from "./entry.ts";
import type { LedgerKeys } from "./keys.ts";
import { loadScript, type LuaConstants, type LuaScript, scriptSource } from "./scripts.ts";
import type { Sealer } from "./sealer.ts";

/**
 * The error a script stops with on a projection built before the credit index existed.
 *
 * @example
 * ```ts
 * await assert.rejects(store.collect("o1", credits, now), new RegExp(NOT_INDEXED));
 * ```
 */
export const NOT_INDEXED =
  "the live projection has no credit index (it was built by an older release): run `deno task rebuild` once";

/** Expired credits one prune drops from one index (credits.lua): the cost of a call stays bounded. */
const PRUNE_BATCH = 100;
/** Credits read per step when a take walks a group for one kind (credits.lua). */
const WALK_PAGE = 50;

/**
 * What lib.lua, credit_value.lua and credits.lua receive (see their headers); every writing
 * script gets these and its own.
 *
 * @example
 * ```ts
 * luaConstants(LIB_CONSTANTS); // "local NEVER_SCORE = \"9007199254740991\"\n..."
 * ```
 */
export const LIB_CONSTANTS: LuaConstants = {
  ...CREDIT_VALUE_CONSTANTS,
  PRUNE_BATCH,
  WALK_PAGE,
  NOT_INDEXED,
  FIELD_SEPARATOR,
  ENTRY_FIELD,
  ENTRY_CODE: {
    FormIdCollected: TYPE_CODE.FormIdCollected,
    FormIdConsumed: TYPE_CODE.FormIdConsumed,
    PushFailed: TYPE_CODE.PushFailed,
  },
  LONG_TERM_PREFIX,
  BROADCAST_STATE_TTL_MS,
};

/**
 * The source of a writing script: lib.lua's constants and the script's own, lib.lua,
 * credit_value.lua, credits.lua, then `lua/<name>.lua`.
 *
 * @example
 * ```ts
 * const TAKE_LUA = writingScriptSource("take", { STATE_LOST: "u" });
 * ```
 */
export function writingScriptSource(name: string, constants: LuaConstants = {}): string {
  return scriptSource(["lib", "credit_value", "credits", name], { ...LIB_CONSTANTS, ...constants });
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
   * Runs a writing script and starts sealing its events without waiting for the seal: for the
   * steps inside a delivery (take, record), which nobody outside acknowledges. Waiting cost each
   * step a seal round (two more round trips, up to two rounds when one was running), and a
   * delivery holds its send slot through both steps. The events are in the log when this
   * returns: readers seal before they read, and if the instance dies first, any later seal (by
   * any instance) hashes them just the same.
   */
  async writeSealingLater<T>(name: string, script: LuaScript, args: string[]): Promise<T> {
    const result = await this.exec<T>(script, args);
    void this.sealAfter(name, () => this.sealer.seal()); // never rejects: it logs
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
