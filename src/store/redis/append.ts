/**
 * The owner of append.lua: events that leave the projection alone, appended as they are.
 *
 * @module
 */
import type { LedgerEvent } from "../../ledger/events.ts";
import { encodeEntry } from "./entry.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";

/**
 * append.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(APPEND_LUA); // what appendScript loads
 * ```
 */
export const APPEND_LUA = writingScriptSource("append");

/**
 * Pushes each event's entry t and d onto a script's arguments.
 *
 * @example
 * ```ts
 * pushEntries(args, [{ type: "PushSucceeded", data }]);
 * ```
 */
export function pushEntries(args: string[], events: readonly LedgerEvent[]): void {
  for (const event of events) {
    const { t, d } = encodeEntry(event.type, event.data);
    args.push(t, d);
  }
}

/**
 * The append operation of one ledger: the events' seqs.
 *
 * @example
 * ```ts
 * const append = appendScript(log);
 * const [seq] = await append([{ type: "PushSucceeded", data }], Date.now());
 * ```
 */
export function appendScript(
  log: LogWriter,
): (events: LedgerEvent[], now: number) => Promise<number[]> {
  const script = log.load(APPEND_LUA);
  return async (events, now) => {
    if (events.length === 0) return [];
    const args = log.args(now);
    pushEntries(args, events);
    const seqs = await log.write<number[]>("append", script, args);
    return seqs.map(Number);
  };
}
