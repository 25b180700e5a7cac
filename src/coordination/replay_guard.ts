/**
 * The replay guard of WeChat's message push on the key-value store: a push's (timestamp, nonce,
 * signature) is claimed with `SET NX PX` (Redis: shared by every instance), so a push accepted
 * by one instance is refused as a replay by all. It has the shape of the event push's
 * `ReplayGuard` port (src/wechat/event_push/replay.ts), which this layer cannot import.
 *
 * Concurrent claims go together: the pushes arriving while two claims are in flight are claimed
 * in the next call (`KeyValue.setMissing`, one round trip), in order, each with its own answer.
 *
 * @module
 */
import { Coalescer } from "../shared/coalescer.ts";
import type { Clock } from "../shared/clock.ts";
import type { KeyValue } from "./coordination.ts";

/** Most claims in one call (a push's key is about 70 bytes). */
const MAX_CLAIMS_PER_CALL = 256;

/**
 * A replay guard on a key-value store; keys live under `wxpush:`.
 *
 * @example
 * ```ts
 * const guard = new KeyValueReplayGuard(new RedisKeyValue(redis, prefix), systemClock);
 * await guard.claim("1714036504:1514711492:f464b2...", Date.now() + 300_000); // true, once
 * ```
 */
export class KeyValueReplayGuard {
  readonly #claims: Coalescer<{ key: string; expiresAtMs: number }, boolean>;

  constructor(private readonly kv: KeyValue, private readonly clock: Clock) {
    this.#claims = new Coalescer((claims) => {
      const now = this.clock.now();
      return this.kv.setMissing(claims.map(({ key, expiresAtMs }) => ({
        key: `wxpush:${key}`,
        value: "1",
        px: Math.max(1, Math.ceil(expiresAtMs - now)),
      })));
    }, { maxInFlight: 2, maxBatch: MAX_CLAIMS_PER_CALL });
  }

  /** Records `key` until `expiresAtMs`; `false` when it is recorded already (a replay). */
  claim(key: string, expiresAtMs: number): Promise<boolean> {
    return this.#claims.add({ key, expiresAtMs });
  }

  /** Forgets `key` (applying its push failed: WeChat's retry must get in). */
  release(key: string): Promise<void> {
    return this.kv.del(`wxpush:${key}`);
  }
}
