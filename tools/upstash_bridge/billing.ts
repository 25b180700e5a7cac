/**
 * The bridge's count of billable commands, counted as Upstash bills: every command a request
 * sends to Redis is one, whether it comes alone, in a pipeline or in a transaction (MULTI and
 * EXEC themselves are not billed), and whether it succeeds or fails. A script call is one
 * command; a `Script.exec()` whose EVALSHA fails with NOSCRIPT and retries with EVAL is two.
 * Requests the bridge refuses before Redis (bad token, malformed body, a command not served
 * over REST) send nothing and count nothing.
 */

/** Billable commands since the start or the last reset. */
export interface CommandCounts {
  /** All billable commands. */
  total: number;
  /** Per command name, in upper case, e.g. `{ EVALSHA: 3, GET: 1 }`, names sorted. */
  byName: Record<string, number>;
}

/**
 * A running tally of billable commands.
 *
 * @example
 * ```ts
 * const bill = new CommandCounter();
 * bill.count("evalsha");
 * bill.count("GET");
 * bill.snapshot(); // { total: 2, byName: { EVALSHA: 1, GET: 1 } }
 * ```
 */
export class CommandCounter {
  #total = 0;
  #byName = new Map<string, number>();

  /** Counts one command sent to Redis; `name` in any case. */
  count(name: string): void {
    const key = name.toUpperCase();
    this.#total++;
    this.#byName.set(key, (this.#byName.get(key) ?? 0) + 1);
  }

  /** The counts so far (a copy). */
  snapshot(): CommandCounts {
    const names = [...this.#byName.keys()].sort();
    return {
      total: this.#total,
      byName: Object.fromEntries(names.map((n) => [n, this.#byName.get(n)!])),
    };
  }

  /** Starts again from zero. */
  reset(): void {
    this.#total = 0;
    this.#byName.clear();
  }
}
