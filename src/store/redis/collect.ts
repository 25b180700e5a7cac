/**
 * The owner of collect.lua: many uploads' credits added in one call, each new one a
 * FormIdCollected; each upload first counts against its rate limits in the same call (limits.ts
 * owns their keys). The new events are sealed in that same call when the sealer's last known
 * head still holds and every credit is new (their seqs and hashes are known before the call);
 * otherwise right after, from the head the script saw (no read back). A call sent while another
 * is in flight guesses that its credits follow that call's: when both hold, both seal in-call;
 * when the first fails (or Redis runs them in the other order) the second fails too and seals
 * after, like any failed guess.
 *
 * @module
 */
import { canonicalEventText, canonicalJson, GENESIS } from "../../chain/chain.ts";
import { formIdCollected } from "../../ledger/events.ts";
import type { CapReason } from "../../ledger/credit_caps.ts";
import type { CollectRequest, CollectResult } from "../../ledger/store.ts";
import { creditValue } from "./credit_value.ts";
import { encodeEntry } from "./entry.ts";
import { LIB_CONSTANTS, type LogWriter } from "./log_writer.ts";
import { decide, isRefused } from "../../ledger/limits.ts";
import { limitKey } from "./limits.ts";
import { scriptSource } from "./scripts.ts";
import { chainAfter, type SealedHead } from "./sealer.ts";
import { STORED_HASH_LENGTH } from "./stored_hash.ts";

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
 * collect.lua with its prelude (a writing script's, fixed_window.lua for the rate limits and
 * chain_strings.lua for the seal) and constants.
 *
 * @example
 * ```ts
 * redis.createScript(COLLECT_LUA); // what collectScript loads
 * ```
 */
export const COLLECT_LUA = scriptSource(
  ["lib", "credit_value", "credits", "fixed_window", "chain_strings", "collect"],
  { ...LIB_CONSTANTS, REFUSED, STORED_HASH_LENGTH },
);

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
  const { sealer } = log;
  // The head the last call in flight guessed it would leave: a call sent while another is in
  // flight guesses that its credits follow that one's (null: no guess to chain from).
  let tip: SealedHead | null = null;
  let inFlight = 0;
  return async (uploads, now) => {
    if (uploads.length === 0) return [];
    const args = log.args(now);
    // ARGV[4..8], the speculated seal, are filled in once the events' text is known.
    const guessAt = args.length;
    args.push("", "", "", "", "");
    // The rate limits first: per check its upload's number (from 1), the count's key, the
    // limit and the window's length; the count of checks before them.
    const [prefix] = args; // lib.lua's ARGV[1]
    const checks = uploads.flatMap(({ limits }, u) =>
      (limits ?? []).map((check) => [String(u + 1), limitKey(prefix, check, now), check] as const)
    );
    args.push(String(checks.length));
    for (const [upload, key, { tokens, windowMs }] of checks) {
      args.push(upload, key, String(tokens), String(windowMs));
    }
    // The canonical JSON of each credit's data: what the chain hashes (the entry is compact).
    const data = uploads.map(({ openId, credits, caps }) => {
      args.push(openId, String(credits.length));
      args.push(caps ? String(caps.perUser) : "", caps ? String(caps.perTemplate) : "");
      return credits.map((credit) => {
        // The factory writes the keys in canonical (sorted) order: one JSON.stringify.
        const event = formIdCollected(openId, credit);
        const { t, d } = encodeEntry(event.type, event.data);
        args.push(credit.formId, creditValue(credit), t, d);
        return canonicalJson(event.data);
      });
    });
    // The guess: every credit appended, in order, right after the head the sealer last saw
    // (or, while another call is in flight, right after the credits that call guessed).
    const at = new Date(now).toISOString();
    const known = inFlight > 0 && tip !== null && tip.seq > sealer.known.seq ? tip : sealer.known;
    const guessed = data.flat().map((json, k) =>
      canonicalEventText(known.seq + 1 + k, "FormIdCollected", at, json)
    );
    const guess = chainAfter(known, guessed);
    if (guessed.length > 0) {
      const from = String(known.seq);
      const prev = known.seq === 0 ? "" : known.hash;
      args.splice(guessAt, 5, from, prev, guess.hashes, guess.last, String(sealer.chainChunk));
    }
    tip = { seq: known.seq + guessed.length, hash: guess.last };
    inFlight++;
    let reply: (number | string)[];
    try {
      reply = await log.exec<(number | string)[]>(script, args);
    } catch (err) {
      tip = null; // the calls chained after this one guess wrong: the next ones start afresh
      throw err;
    } finally {
      inFlight--;
    }
    // Each upload's limit decisions, then a code per credit of each upload not over a limit.
    let i = 3;
    const decisions = uploads.map(({ limits }) =>
      limits?.map((check) => decide(check, Number(reply[i++]), now))
    );
    const codes = uploads.map(({ credits }, u) =>
      isRefused(decisions[u] ?? []) ? [] : credits.map(() => Number(reply[i++]))
    );
    const sealedInCall = Number(reply[2]);
    if (sealedInCall > 0) {
      sealer.noteSealed({ seq: sealedInCall, hash: guess.last });
    } else {
      tip = null;
      // The guess failed: seal the new events from the head the script saw, no read back.
      const appended: { seq: number; canonical: string }[] = [];
      codes.forEach((seqs, u) =>
        seqs.forEach((seq, c) => {
          if (seq <= 0) return;
          appended.push({
            seq,
            canonical: canonicalEventText(seq, "FormIdCollected", at, data[u][c]),
          });
        })
      );
      const sealed = { seq: Number(reply[0]), hash: String(reply[1]) || GENESIS };
      await log.sealAfter("collect", () => sealer.sealAppended(sealed, appended));
    }
    return uploads.map(({ credits }, u) => {
      const result: CollectResult = { accepted: [], duplicates: [] };
      codes[u].forEach((code, c) => {
        const { formId } = credits[c];
        const reason = REASON_OF.get(code);
        if (reason) (result.refused ??= []).push({ formId, reason });
        else (code > 0 ? result.accepted : result.duplicates).push(formId);
      });
      const limits = decisions[u];
      if (limits) result.limits = limits;
      return result;
    });
  };
}
