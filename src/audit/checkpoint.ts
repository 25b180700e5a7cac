/**
 * Checkpoints: points of the hash chain an auditor recorded outside the system (`seq:hash`), and
 * the checks on them before a verification starts.
 *
 * @module
 */

/**
 * A point of the chain recorded outside the system: the hash of event `seq`.
 *
 * @example
 * ```ts
 * const point: Checkpoint = { seq: 42, hash: "ab".repeat(32) };
 * ```
 */
export interface Checkpoint {
  seq: number;
  hash: string;
  at?: string | null;
}

/**
 * Parses `seq:hash` (as the checkpoint endpoint's fields) into a checkpoint; throws on anything
 * else.
 *
 * @example
 * ```ts
 * const point = parseCheckpoint(`42:${"ab".repeat(32)}`); // { seq: 42, hash: "abab…" }
 * ```
 */
export function parseCheckpoint(text: string): Checkpoint {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  if (!match || !Number.isSafeInteger(Number(match[1]))) {
    throw new Error(`a checkpoint is "<seq>:<64 lowercase hex>", got "${text}"`);
  }
  return { seq: Number(match[1]), hash: match[2] };
}

/**
 * A problem with a set of checkpoints given together (two hashes for one seq), or `null`.
 *
 * @example
 * ```ts
 * checkpointConflict([{ seq: 1, hash: "a".repeat(64) }, { seq: 1, hash: "b".repeat(64) }]);
 * // "two different hashes given for seq 1"
 * ```
 */
export function checkpointConflict(points: Checkpoint[]): string | null {
  const hashes = new Map<number, string>();
  for (const { seq, hash } of points) {
    if ((hashes.get(seq) ?? hash) !== hash) return `two different hashes given for seq ${seq}`;
    hashes.set(seq, hash);
  }
  return null;
}
