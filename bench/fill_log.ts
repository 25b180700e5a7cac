/**
 * Writes a large, correctly chained log straight into Redis in exactly lib.lua's layout
 * (segment streams `<prefix>:log:<n>`, entry id `<seq>-0`, fields t/a/d/h, head hash), so the
 * rebuild benchmark starts from a million events in seconds. The projection is not written:
 * `rebuild` builds it from the log.
 *
 * (Restored by the issue-5 session after it overwrote this file by mistake; same exports as the
 * version bench/ledger.ts was written against.)
 *
 * @module
 */
import type { Redis as IORedis } from "ioredis";
import { canonicalEvent, canonicalJson, GENESIS, linkHash } from "../src/audit/chain.ts";

/** The openId of filled user `u`. */
export function filledOpenId(u: number): string {
  return `oFill${String(u).padStart(23, "0")}`;
}

/** What {@link fillLog} wrote: the head of the log. */
export interface FilledLog {
  seq: number;
  hash: string;
}

/**
 * Appends `events` events under `prefix`: per user, three form credits collected (expiring six
 * days after `now`) and one consumed, so every complete user holds two valid credits at `now`.
 */
export async function fillLog(
  direct: IORedis,
  prefix: string,
  events: number,
  segmentEvents: number,
  now: number,
): Promise<FilledLog> {
  const at = new Date(now).toISOString();
  const expiresAt = now + 6 * 86_400_000;
  let hash = GENESIS;
  let pipeline = direct.pipeline();
  const flush = async () => {
    const replies = await pipeline.exec();
    const failed = replies?.find(([err]) => err);
    if (failed) throw failed[0];
    pipeline = direct.pipeline();
  };
  for (let seq = 1; seq <= events; seq++) {
    const u = Math.floor((seq - 1) / 4);
    const k = (seq - 1) % 4;
    const openId = filledOpenId(u);
    const formId = (j: number) => `${u.toString(16).padStart(8, "0")}${j}`.padEnd(32, "f");
    const event = k < 3
      ? {
        type: "FormIdCollected",
        data: { openId, formId: formId(k), kind: "form", uses: 1, expiresAt },
      }
      : { type: "FormIdConsumed", data: { openId, formId: formId(0), pushId: `p${u}` } };
    hash = linkHash(hash, canonicalEvent({ seq, type: event.type, at, data: event.data }));
    const segment = Math.floor((seq - 1) / segmentEvents);
    pipeline.xadd(
      `${prefix}:log:${segment}`,
      `${seq}-0`,
      "t",
      event.type,
      "a",
      String(now),
      "d",
      canonicalJson(event.data),
      "h",
      hash,
    );
    if (seq % 10_000 === 0) await flush();
  }
  pipeline.hset(
    `${prefix}:head`,
    "seq",
    events,
    "hash",
    hash,
    "at",
    String(now),
    "seg",
    segmentEvents,
  );
  await flush();
  return { seq: events, hash };
}
