/**
 * The replay guard of WeChat's message push on the key-value store: a push's (timestamp, nonce,
 * signature) is claimed with `SET NX PX` (Redis: shared by every instance), so a push accepted
 * by one instance is refused as a replay by all. It has the shape of the event push's
 * `ReplayGuard` port (src/wechat/event_push/replay.ts), which this layer cannot import.
 *
 * @module
 */
import type { Clock } from "../shared/clock.ts";
import type { KeyValue } from "./coordination.ts";

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
  constructor(private readonly kv: KeyValue, private readonly clock: Clock) {}

  /** Records `key` until `expiresAtMs`; `false` when it is recorded already (a replay). */
  claim(key: string, expiresAtMs: number): Promise<boolean> {
    const px = Math.max(1, Math.ceil(expiresAtMs - this.clock.now()));
    return this.kv.set(`wxpush:${key}`, "1", { nx: true, px });
  }

  /** Forgets `key` (applying its push failed: WeChat's retry must get in). */
  release(key: string): Promise<void> {
    return this.kv.del(`wxpush:${key}`);
  }
}
