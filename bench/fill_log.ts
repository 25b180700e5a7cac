/**
 * A simple, uniform log for the ledger benchmark's rebuild: per user, three credits collected
 * and one consumed (so two stay outstanding), written straight into Redis by `writeLog` in the
 * store's layout, appended and sealed.
 *
 * @module
 */
import type { Redis as IORedis } from "ioredis";
import { type TimedEvent, writeLog } from "./audit_log.ts";

/** The openId of filled user `n`. */
export function filledOpenId(n: number): string {
  return `oBench${String(n).padStart(22, "0")}`;
}

/** What the fill wrote: the head's seq and hash. */
export interface FilledLog {
  seq: number;
  hash: string;
}

/** Appends `events` events at time `now`, credits valid for a week from it. */
export async function fillLog(
  direct: IORedis,
  prefix: string,
  events: number,
  segmentEvents: number,
  now: number,
): Promise<FilledLog> {
  const { head } = await writeLog(direct, prefix, uniformEvents(events, now), { segmentEvents });
  return { seq: head.seq, hash: head.hash };
}

function* uniformEvents(events: number, now: number): Generator<TimedEvent> {
  const expiresAt = now + 7 * 86_400_000;
  for (let seq = 1; seq <= events; seq++) {
    const openId = filledOpenId(Math.floor((seq - 1) / 4));
    const step = (seq - 1) % 4;
    yield {
      atMs: now,
      event: step < 3
        ? {
          type: "FormIdCollected",
          data: { openId, formId: `f${seq}`, kind: "form", uses: 1, expiresAt },
        }
        : { type: "FormIdConsumed", data: { openId, formId: `f${seq - 3}`, pushId: `p${seq}` } },
    };
  }
}
