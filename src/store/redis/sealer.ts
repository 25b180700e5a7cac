/**
 * The sealer: computes the chain hashes of events the Lua scripts appended, and stores them.
 *
 * SHA-256 in Redis's Lua costs about 120 µs per event, which capped every write path at a few
 * thousand events per second. So the append scripts store events without a hash, and the
 * instance that appended them seals them right after: it reads the unsealed tail
 * (`pending.lua`), hashes it here (`SHA-256(prev || canonical)`, about 1 µs per event), and
 * stores the hashes with `seal.lua`, a compare-and-swap on the sealed head. Any instance may
 * seal any event; a seal that loses the race writes nothing and looks again. Appends are never
 * serialised: sealing is a cheap, idempotent step after them.
 *
 * Calls made while a round runs share the next round, so many concurrent writers on one
 * instance cost one round trip pair, not one each.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { Buffer } from "node:buffer";
import { canonicalEvent, GENESIS, linkBytes, linkHash } from "../../chain/chain.ts";

const HEX64 = /^[0-9a-f]{64}$/;
import { readEntry } from "./entry.ts";
import { IsoTimes } from "./iso_time.ts";
import { loadScript, type LuaScript, scriptSource } from "./scripts.ts";
import { STORED_HASH_LENGTH, toStoredHash } from "./stored_hash.ts";

/**
 * pending.lua.
 *
 * @example
 * ```ts
 * redis.createScript(PENDING_LUA).exec([keys.head], [prefix, "2000"]);
 * ```
 */
export const PENDING_LUA = scriptSource(["pending"]);
/**
 * seal.lua with its prelude (chain_strings.lua, the layout of the chain strings, which
 * collect.lua shares) and constants.
 *
 * @example
 * ```ts
 * redis.createScript(SEAL_LUA).exec([keys.head], [prefix, from, hashes, lastHex, "1500"]);
 * ```
 */
export const SEAL_LUA = scriptSource(["chain_strings", "seal"], { STORED_HASH_LENGTH });

/**
 * The links that follow a sealed head: each event's hash chained from `head.hash`, in stored
 * form concatenated (as seal.lua and chain_strings.lua take them), and the last one in hex.
 *
 * @example
 * ```ts
 * const { hashes, last } = chainAfter({ seq: 0, hash: GENESIS }, [canonicalOfEvent1]);
 * ```
 */
export function chainAfter(
  head: SealedHead,
  canonicals: readonly string[],
): { hashes: string; last: string } {
  if (canonicals.length === 0) return { hashes: "", last: head.hash };
  // Bytes from link to link: hex only for the last (each stored hash is base64url of the bytes).
  let prev: Uint8Array = Buffer.from(head.hash, "hex");
  if (prev.length !== 32 || !HEX64.test(head.hash)) {
    let last = head.hash;
    let hashes = "";
    for (const canonical of canonicals) {
      last = linkHash(last, canonical);
      hashes += toStoredHash(last);
    }
    return { hashes, last };
  }
  let hashes = "";
  let link: Buffer = Buffer.alloc(0);
  for (const canonical of canonicals) {
    link = linkBytes(prev, canonical);
    hashes += link.toString("base64url");
    prev = link;
  }
  return { hashes, last: link.toString("hex") };
}

/**
 * The sealed head after a round: every event up to `seq` has its hash stored.
 *
 * @example
 * ```ts
 * const { seq, hash }: SealedHead = await sealer.seal();
 * ```
 */
export interface SealedHead {
  seq: number;
  hash: string;
}

/** Events hashed per round trip pair. */
const SEAL_BATCH = 2_000;

/**
 * Hashes per chain string of a new log: 64,500 bytes, which Redis's allocator (jemalloc) holds
 * in a 64 KiB block with little to spare.
 *
 * @example
 * ```ts
 * CHAIN_CHUNK * STORED_HASH_LENGTH; // 64,500 bytes per full chain string
 * ```
 */
export const CHAIN_CHUNK = 1_500;

/**
 * Seals one ledger's log (the owner of pending.lua and seal.lua).
 *
 * @example
 * ```ts
 * const sealer = new Sealer(redis, ledgerKeys(prefix).head, prefix);
 * const { seq, hash } = await sealer.seal();
 * ```
 */
export class Sealer {
  #current: Promise<SealedHead> | null = null;
  #next: Promise<SealedHead> | null = null;
  readonly #pending: LuaScript;
  readonly #seal: LuaScript;
  /** The sealed head as last seen; events up to it need no sealing. */
  known: SealedHead = { seq: 0, hash: GENESIS };

  constructor(
    redis: Redis,
    readonly headKey: string,
    readonly prefix: string,
    /** Hashes per chain string, when this sealer is the first to seal the log. */
    readonly chainChunk: number = CHAIN_CHUNK,
  ) {
    this.#pending = loadScript(redis, PENDING_LUA);
    this.#seal = loadScript(redis, SEAL_LUA);
  }

  /**
   * Seals every event appended before this call (and whatever else is pending when the round
   * runs). Resolves with the sealed head.
   */
  seal(): Promise<SealedHead> {
    if (!this.#current) {
      this.#current = this.#sealAll().finally(() => (this.#current = null));
      return this.#current;
    }
    // A round is running, and it may have read the head before our events: take the next one.
    this.#next ??= this.#current.catch(() => {}).then(() => {
      this.#next = null;
      return this.seal();
    });
    return this.#next;
  }

  async #sealAll(): Promise<SealedHead> {
    let target = Infinity;
    for (;;) {
      const reply = await this.#pending.exec(
        [this.headKey],
        [this.prefix, String(SEAL_BATCH)],
      ) as unknown[];
      const sealed = Number(reply[0]);
      const hash = String(reply[1]) || GENESIS;
      const last = Number(reply[2]);
      this.known = { seq: sealed, hash };
      target = Math.min(target, last);
      if (sealed >= target) return this.known;
      let expected = sealed + 1;
      const canonicals: string[] = [];
      const times = new IsoTimes();
      for (let i = 4; i < reply.length; i += 2) {
        const id = String(reply[i]);
        if (id !== `${expected}-0`) {
          throw new Error(`cannot seal: log entry ${expected} is missing (found ${id})`);
        }
        const entry = readEntry(reply[i + 1] as string[]);
        if (!entry) throw new Error(`cannot seal: log entry ${expected} is malformed`);
        const { type, data } = entry;
        const at = times.format(Number(entry.a));
        canonicals.push(canonicalEvent({ seq: expected, type, at, data }));
        expected++;
      }
      if (canonicals.length === 0) {
        throw new Error(`cannot seal: log entry ${sealed + 1} is missing`);
      }
      const { hashes, last: prev } = chainAfter({ seq: sealed, hash }, canonicals);
      const now = await this.#store(sealed, hashes, prev);
      if (now === sealed + hashes.length / STORED_HASH_LENGTH) {
        this.known = { seq: now, hash: prev };
        if (now >= target) return this.known;
      }
      // Otherwise another instance sealed first, or there is more: look again.
    }
  }

  /**
   * Seals events the caller has just appended, given as their canonical text, without reading
   * them back: when nothing before them is unsealed (`sealed`, the head the appending script
   * saw, is just before the first), their hashes follow from `sealed.hash` alone and one
   * compare-and-swap stores them. Otherwise, or if another sealer got there first, it falls
   * back to `seal()`.
   */
  async sealAppended(
    sealed: SealedHead,
    events: { seq: number; canonical: string }[],
  ): Promise<SealedHead> {
    if (events.length === 0) return this.known;
    const fresh = events.every((e, i) => e.seq === sealed.seq + 1 + i);
    if (fresh) {
      const { hashes, last } = chainAfter(sealed, events.map((e) => e.canonical));
      const now = await this.#store(sealed.seq, hashes, last);
      if (now === sealed.seq + events.length) return this.noteSealed({ seq: now, hash: last });
    }
    return this.seal();
  }

  /**
   * Notes a sealed head another script stored (collect.lua seals its own events when it can),
   * so the next write can chain from it; returns `head`.
   */
  noteSealed(head: SealedHead): SealedHead {
    if (head.seq > this.known.seq) this.known = head;
    return head;
  }

  /**
   * Stores the stored-form `hashes` of the events after `from` (seal.lua's compare-and-swap);
   * `last` is the last one in hex, for the head. Resolves with the sealed seq after the call.
   */
  async #store(from: number, hashes: string, last: string): Promise<number> {
    const args = [this.prefix, String(from), hashes, last, String(this.chainChunk)];
    return Number(await this.#seal.exec([this.headKey], args));
  }
}
