/**
 * Every Redis key the ledger uses, all under one prefix (`LEDGER_PREFIX`), so several ledgers
 * (or mini-programs) share a database without mixing.
 *
 * @module
 */

/**
 * Key names for a ledger under `prefix`.
 *
 * @example
 * ```ts
 * ledgerKeys("ledger").segment(0); // "ledger:log:0"
 * ```
 */
export function ledgerKeys(prefix: string) {
  return {
    /** HASH seq, at, seg, chunk, sealed, hash: the log's head, layout and sealed head. */
    head: `${prefix}:head`,
    /** STRING: the live projection version. */
    projection: `${prefix}:proj`,
    /** STRING counter handing out projection versions to rebuilds. */
    projectionCounter: `${prefix}:projseq`,
    /** STRING: the token of the rebuild running now; it expires if its process dies. */
    rebuildLock: `${prefix}:rebuild`,
    /** STREAM: segment `n` of the log, events `n*seg+1 .. (n+1)*seg`. */
    segment: (n: number) => `${prefix}:log:${n}`,
    /**
     * STRING: the chain hashes of sealed events `n*chunk+1 .. (n+1)*chunk` (`chunk` from the
     * head), each hash as 43 characters of base64url (src/store/redis/stored_hash.ts).
     */
    chain: (n: number) => `${prefix}:chain:${n}`,
    /**
     * HASH formId -> credit: one user's credits in projection `version` (live ones, and spent
     * ones until they expire, for duplicate detection).
     */
    user: (version: string, openId: string) => `${prefix}:p${version}:u:${openId}`,
    /** ZSET formId -> spend rank: the user's live (unspent) credits, the credit index. */
    credits: (version: string, openId: string) => `${prefix}:p${version}:c:${openId}`,
    /**
     * ZSET formId -> spend rank: the user's live credits of one spend group (`fp`, or
     * `t:<templateId>`; src/ledger/spend_groups.ts). An openId holds no `:`, so the group
     * follows it unambiguously.
     */
    group: (version: string, openId: string, group: string) =>
      `${prefix}:p${version}:g:${openId}:${group}`,
    /** ZSET formId -> expiry: the user's spent credits kept for dedupe, to drop when expired. */
    spent: (version: string, openId: string) => `${prefix}:p${version}:s:${openId}`,
    /** STRING "1": projection `version` keeps the credit index (written by this layout only). */
    indexed: (version: string) => `${prefix}:p${version}:indexed`,
    /** ZSET openId -> latest expiry: who may hold credits, in projection `version`. */
    users: (version: string) => `${prefix}:p${version}:users`,
    /** HASH openId -> delivery state of broadcast `id` (see src/ledger/delivery.ts). */
    broadcastState: (id: string) => `${prefix}:bc:${id}:st`,
    /** HASH sent, failed, noCredit, e:<errcode> -> count, for broadcast `id`. */
    broadcastTally: (id: string) => `${prefix}:bc:${id}:tally`,
    /** STRING (prefix of): `<prefix>:ps:<pushId>` -> the kept delivery state of a push. */
    pushState: `${prefix}:ps:`,
  };
}

/**
 * The key names of one ledger (see {@link ledgerKeys}).
 *
 * @example
 * ```ts
 * const keys: LedgerKeys = ledgerKeys("ledger");
 * ```
 */
export type LedgerKeys = ReturnType<typeof ledgerKeys>;
