/**
 * `Idempotency-Key` for pushes: the first request with a key runs; a retry with the same key
 * and the same body gets the first outcome back instead of sending again; the same key with a
 * different body is refused; a retry while the first is still running is told so.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { KeyValue } from "../coordination/coordination.ts";

/** Why a keyed request cannot run. */
export class IdempotencyConflict extends Error {
  constructor(readonly reason: "in_progress" | "mismatch") {
    super(
      reason === "in_progress"
        ? "a request with this Idempotency-Key is still in progress"
        : "this Idempotency-Key was used with a different request body",
    );
    this.name = "IdempotencyConflict";
  }
}

/** What a key holds: the run's state, the fingerprint of its body and, once done, its result. */
interface IdempotencyEntry {
  state: "pending" | "done";
  fingerprint: string;
  result?: unknown;
}

const hash = (s: string) => createHash("sha256").update(s).digest("hex");

/** Runs keyed operations at most once per key (within the TTL). */
export class Idempotency {
  constructor(
    private readonly kv: KeyValue,
    private readonly ttlMs: number,
    /** How long a run may take before its key is free again (crash recovery). */
    private readonly pendingMs: number,
  ) {}

  /** Runs `operation` under `key`, or returns the first outcome for `key`. */
  async run<T>(
    scope: string,
    key: string,
    body: string,
    operation: () => Promise<T>,
  ): Promise<{ result: T; replayed: boolean }> {
    const name = `idem:${scope}:${hash(key)}`;
    const fingerprint = hash(body);
    const pending = JSON.stringify({ state: "pending", fingerprint, owner: crypto.randomUUID() });
    if (!(await this.kv.set(name, pending, { nx: true, px: this.pendingMs }))) {
      const raw = await this.kv.get(name);
      if (raw === null) throw new IdempotencyConflict("in_progress"); // it just expired: retry
      const existing = JSON.parse(raw) as IdempotencyEntry;
      if (existing.fingerprint !== fingerprint) throw new IdempotencyConflict("mismatch");
      if (existing.state !== "done") throw new IdempotencyConflict("in_progress");
      return { result: existing.result as T, replayed: true };
    }
    let result: T;
    try {
      result = await operation();
    } catch (err) {
      await this.kv.deleteIfEquals(name, pending);
      throw err;
    }
    await this.kv.set(name, JSON.stringify({ state: "done", fingerprint, result }), {
      px: this.ttlMs,
    });
    return { result, replayed: false };
  }
}
