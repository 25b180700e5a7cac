/**
 * Compares the projection rebuilt by a replay with the live one, user by user, as each user's
 * view at one instant: the same valid credits, uses and expiries.
 *
 * @module
 */
import type { CreditView } from "../ledger/credit_rules.ts";
import { viewOf } from "../ledger/credit_rules.ts";
import type { LedgerStore } from "../ledger/store.ts";
import { canonicalJson } from "../chain/chain.ts";
import type { Replay } from "./replay.ts";

/** One user whose live view differs from the rebuilt one. */
export interface ProjectionMismatch {
  openId: string;
  /** What the log says the user holds. */
  rebuilt: CreditView;
  /** What the live projection says. */
  live: CreditView;
}

/** The outcome of a comparison. */
export interface ProjectionComparison {
  /** The instant both views are taken at (ISO-8601). */
  at: string;
  /** Users compared (holding valid credits on either side). */
  users: number;
  /** Users whose views differ. */
  mismatches: number;
  /** Up to ten of them. */
  samples: ProjectionMismatch[];
  /** Users left out because events about them were appended while the comparison ran. */
  skipped: number;
}

/** Users listed per projection page. */
const PAGE = 500;
const SAMPLES = 10;

/** A comparison in two steps, so the log can be read on between them (see `finish`). */
export class ProjectionCheck {
  readonly #candidates = new Map<string, ProjectionMismatch>();
  readonly #seen = new Set<string>();
  #users = 0;

  constructor(readonly replay: Replay, readonly now: number) {}

  /** Lists the whole live projection and compares each user with the replay's. */
  async scan(store: Pick<LedgerStore, "projectionPage">): Promise<void> {
    let cursor = "0";
    do {
      const page = await store.projectionPage(cursor, PAGE, this.now);
      for (const { openId, credits } of page.users) {
        if (this.#seen.has(openId)) continue;
        this.#seen.add(openId);
        const live = viewOf(credits, this.now);
        const rebuilt = this.replay.viewOf(openId, this.now);
        if (live.valid === 0 && rebuilt.valid === 0) continue;
        this.#users++;
        if (canonicalJson(live) !== canonicalJson(rebuilt)) {
          this.#candidates.set(openId, { openId, rebuilt, live });
        }
      }
      cursor = page.cursor;
    } while (cursor !== "0");
  }

  /**
   * Concludes: users the live projection did not list but the replay holds credits for are
   * mismatches too. Users in `skip` (touched by events appended during the scan) are left out.
   */
  finish(skip: ReadonlySet<string> = new Set()): ProjectionComparison {
    const mismatches = [...this.#candidates.values()].filter((m) => !skip.has(m.openId));
    let users = this.#users;
    for (const openId of this.replay.usersWithCredits(this.now)) {
      if (this.#seen.has(openId) || skip.has(openId)) continue;
      users++;
      mismatches.push({
        openId,
        rebuilt: this.replay.viewOf(openId, this.now),
        live: viewOf([], this.now),
      });
    }
    return {
      at: new Date(this.now).toISOString(),
      users,
      mismatches: mismatches.length,
      samples: mismatches.slice(0, SAMPLES),
      skipped: skip.size,
    };
  }
}
