/**
 * The owner of collect.lua: many uploads' credits added in one call, each new one a
 * FormIdCollected, sealed right after from the head the script saw (no read back).
 *
 * @module
 */
import { canonicalEventText, canonicalJson, GENESIS } from "../../chain/chain.ts";
import { formIdCollected } from "../../ledger/events.ts";
import type { CapReason } from "../../ledger/credit_caps.ts";
import type { CollectRequest, CollectResult } from "../../ledger/store.ts";
import { creditValue } from "./credit_value.ts";
import { encodeEntry } from "./entry.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";

/**
 * What collect.lua answers for a credit a cap refused (a collected one gets its seq, a
 * duplicate 0).
 *
 * @example
 * ```ts
 * code === REFUSED.user_full; // the user holds MAX_CREDITS_PER_USER live credits
 * ```
 */
export const REFUSED: Readonly<Record<CapReason, number>> = { user_full: -1, template_full: -2 };

const REASON_OF = new Map<number, CapReason>([
  [REFUSED.user_full, "user_full"],
  [REFUSED.template_full, "template_full"],
]);

/**
 * collect.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(COLLECT_LUA); // what collectScript loads
 * ```
 */
export const COLLECT_LUA = writingScriptSource("collect", { REFUSED });

/**
 * The collect operation of one ledger: one script call for all `uploads`.
 *
 * @example
 * ```ts
 * const collectMany = collectScript(log);
 * const [result] = await collectMany([{ openId: "o1", credits }], Date.now());
 * ```
 */
export function collectScript(
  log: LogWriter,
): (uploads: CollectRequest[], now: number) => Promise<CollectResult[]> {
  const script = log.load(COLLECT_LUA);
  return async (uploads, now) => {
    if (uploads.length === 0) return [];
    const args = log.args(now);
    // The canonical JSON of each credit's data: what the chain hashes (the entry is compact).
    const data: string[] = [];
    for (const { openId, credits, caps } of uploads) {
      args.push(openId, String(credits.length));
      args.push(caps ? String(caps.perUser) : "", caps ? String(caps.perTemplate) : "");
      for (const credit of credits) {
        // The factory writes the keys in canonical (sorted) order: one JSON.stringify.
        const event = formIdCollected(openId, credit);
        data.push(canonicalJson(event.data));
        const { t, d } = encodeEntry(event.type, event.data);
        args.push(credit.formId, creditValue(credit), t, d);
      }
    }
    const reply = await log.exec<(number | string)[]>(script, args);
    // The new events are known here: seal them from the head the script saw, no read back.
    const at = new Date(now).toISOString();
    const appended: { seq: number; canonical: string }[] = [];
    for (let i = 0; i < data.length; i++) {
      const seq = Number(reply[i + 2]);
      if (seq > 0) {
        appended.push({ seq, canonical: canonicalEventText(seq, "FormIdCollected", at, data[i]) });
      }
    }
    const sealed = { seq: Number(reply[0]), hash: String(reply[1]) || GENESIS };
    await log.sealAfter("collect", () => log.sealer.sealAppended(sealed, appended));
    let i = 2;
    return uploads.map(({ credits }) => {
      const result: CollectResult = { accepted: [], duplicates: [] };
      for (const { formId } of credits) {
        const code = Number(reply[i++]);
        const reason = REASON_OF.get(code);
        if (reason) (result.refused ??= []).push({ formId, reason });
        else (code > 0 ? result.accepted : result.duplicates).push(formId);
      }
      return result;
    });
  };
}
