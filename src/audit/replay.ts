/**
 * Rebuilds every user's projection in memory with the pure fold (`applyEvent`) while the log
 * streams past, and keeps the auditor's tallies: events by type; credits collected, consumed,
 * released, expired and outstanding by kind; pushes sent and failed by errcode.
 *
 * Memory is bounded by the credits still alive, not by the log: credits that expired well before
 * the log's current time (more than `pruneMarginMs`, which absorbs clock skew between instances)
 * are dropped from the fold and counted as expired.
 *
 * @module
 */
import { type Credit, isValid, viewOf } from "../ledger/credit_rules.ts";
import type { CreditKind, StoredEvent } from "../ledger/events.ts";
import { applyEvent, type ProjectionState } from "../ledger/projection.ts";

/** A number of credits and the sends (uses) they carry. */
export interface CreditCount {
  credits: number;
  uses: number;
}

/** One kind's credits over the whole log. Consumed and released count uses. */
export interface KindTotals {
  collected: CreditCount;
  consumed: number;
  released: number;
  /** Credits whose expiry passed with uses left, and those uses. */
  expired: CreditCount;
  /** Credits valid at the report's time, and their uses. */
  outstanding: CreditCount;
}

/** What the log says happened. */
export interface ReplayReport {
  /** The time the expired/outstanding split is taken at (ISO-8601). */
  at: string;
  events: { total: number; byType: Record<string, number> };
  credits: Record<CreditKind, KindTotals>;
  pushes: { sent: number; failed: number; failedByErrcode: Record<string, number> };
  /** Users holding at least one valid credit. */
  users: number;
  /** Events the fold cannot account for (a use taken from a credit without one left, ...). */
  anomalies: { count: number; samples: string[] };
}

/** Options of a replay. */
export interface ReplayOptions {
  /** How long after expiry (by the log's clock) a credit is dropped; default one hour. */
  pruneMarginMs?: number;
}

const KINDS: CreditKind[] = ["form", "prepay", "subscribe"];
const isKind = (kind: unknown): kind is CreditKind => KINDS.includes(kind as CreditKind);
const HOUR = 3_600_000;
const SAMPLES = 10;

/** The fold plus its tallies. Feed events in order with `apply`. */
export class Replay {
  readonly state: ProjectionState = new Map();
  readonly #totals = Object.fromEntries(KINDS.map((k) => [k, emptyTotals()])) as Record<
    CreditKind,
    KindTotals
  >;
  readonly #byType: Record<string, number> = {};
  readonly #failedByErrcode: Record<string, number> = {};
  readonly #anomalies: string[] = [];
  #anomalyCount = 0;
  #events = 0;
  #sent = 0;
  #failed = 0;
  /** Credits by the hour they expire in, for pruning: hour -> [openId, formId, expiresAt, ...]. */
  readonly #expiring = new Map<number, (string | number)[]>();
  #prunedThrough = -Infinity;
  readonly #margin: number;
  /** When set, every openId an event touches is added (projection comparisons skip them). */
  touched: Set<string> | null = null;

  constructor(options: ReplayOptions = {}) {
    this.#margin = options.pruneMarginMs ?? HOUR;
  }

  /** Events applied. */
  get events(): number {
    return this.#events;
  }

  /** Folds one event and counts it. */
  apply(event: StoredEvent): void {
    this.#events++;
    this.#byType[event.type] = (this.#byType[event.type] ?? 0) + 1;
    switch (event.type) {
      case "FormIdCollected": {
        const { openId, formId, kind, uses, expiresAt } = event.data;
        // A credit of no known kind (a forged or mangled entry) is counted, never held.
        if (!isKind(kind)) return this.#anomaly(event, `unknown credit kind ${String(kind)}`);
        const held = this.state.get(openId)?.get(formId);
        if (held) {
          if (held.expiresAt !== null && held.expiresAt <= Date.parse(event.at)) {
            // The live store dropped the expired credit and accepted the formId again.
            this.#drop(openId, held);
          } else {
            this.#anomaly(event, `collected ${formId} for ${openId} while it was still held`);
          }
        }
        this.#totals[kind].collected.credits++;
        this.#totals[kind].collected.uses += uses;
        if (expiresAt !== null) this.#schedule(openId, formId, expiresAt);
        break;
      }
      case "FormIdConsumed": {
        const { openId, formId } = event.data;
        const credit = this.state.get(openId)?.get(formId);
        if (!credit || credit.uses <= 0) {
          this.#anomaly(event, `${openId} spent a use of ${formId} it did not have`);
        } else this.#totals[credit.kind].consumed++;
        break;
      }
      case "FormIdReleased": {
        const { openId, formId, kind, expiresAt } = event.data;
        if (!isKind(kind)) return this.#anomaly(event, `unknown credit kind ${String(kind)}`);
        this.#totals[kind].released++;
        if (!this.state.get(openId)?.has(formId) && expiresAt !== null) {
          this.#schedule(openId, formId, expiresAt);
        }
        break;
      }
      case "PushSucceeded":
        this.#sent++;
        break;
      case "PushFailed": {
        this.#failed++;
        const code = String(event.data.errcode);
        this.#failedByErrcode[code] = (this.#failedByErrcode[code] ?? 0) + 1;
        break;
      }
    }
    applyEvent(this.state, event);
    if (this.touched && "openId" in event.data) this.touched.add(event.data.openId);
  }

  /**
   * Drops credits that expired more than the margin before `logTimeMs` (the time of the latest
   * events applied), counting their uses left as expired.
   */
  prune(logTimeMs: number): void {
    const through = Math.floor((logTimeMs - this.#margin) / HOUR) - 1;
    if (through <= this.#prunedThrough) return;
    for (const [hour, credits] of this.#expiring) {
      if (hour > through) continue;
      for (let i = 0; i < credits.length; i += 3) {
        const openId = credits[i] as string;
        const credit = this.state.get(openId)?.get(credits[i + 1] as string);
        if (credit && credit.expiresAt === credits[i + 2]) this.#drop(openId, credit);
      }
      this.#expiring.delete(hour);
    }
    this.#prunedThrough = through;
  }

  /** The user's credits valid at `now`, as the store's view would list them. */
  viewOf(openId: string, now: number) {
    return viewOf(this.state.get(openId)?.values() ?? [], now);
  }

  /** Users holding a credit valid at `now`. */
  *usersWithCredits(now: number): Generator<string> {
    for (const [openId, credits] of this.state) {
      for (const credit of credits.values()) {
        if (isValid(credit, now)) {
          yield openId;
          break;
        }
      }
    }
  }

  /** The report at `now`: credits still held are split into expired and outstanding. */
  report(now: number): ReplayReport {
    const credits = structuredClone(this.#totals);
    let users = 0;
    for (const held of this.state.values()) {
      let holds = false;
      for (const credit of held.values()) {
        if (credit.uses <= 0) continue;
        const bucket = isValid(credit, now)
          ? credits[credit.kind].outstanding
          : credits[credit.kind].expired;
        bucket.credits++;
        bucket.uses += credit.uses;
        holds ||= isValid(credit, now);
      }
      if (holds) users++;
    }
    return {
      at: new Date(now).toISOString(),
      events: { total: this.#events, byType: { ...this.#byType } },
      credits,
      pushes: {
        sent: this.#sent,
        failed: this.#failed,
        failedByErrcode: { ...this.#failedByErrcode },
      },
      users,
      anomalies: { count: this.#anomalyCount, samples: [...this.#anomalies] },
    };
  }

  #drop(openId: string, credit: Credit): void {
    if (credit.uses > 0) {
      const expired = this.#totals[credit.kind].expired;
      expired.credits++;
      expired.uses += credit.uses;
    }
    const held = this.state.get(openId)!;
    held.delete(credit.formId);
    if (held.size === 0) this.state.delete(openId);
  }

  #schedule(openId: string, formId: string, expiresAt: number): void {
    const hour = Math.floor(expiresAt / HOUR);
    let list = this.#expiring.get(hour);
    if (!list) this.#expiring.set(hour, list = []);
    list.push(openId, formId, expiresAt);
  }

  #anomaly(event: StoredEvent, what: string): void {
    this.#anomalyCount++;
    if (this.#anomalies.length < SAMPLES) this.#anomalies.push(`seq ${event.seq}: ${what}`);
  }
}

function emptyTotals(): KindTotals {
  return {
    collected: { credits: 0, uses: 0 },
    consumed: 0,
    released: 0,
    expired: { credits: 0, uses: 0 },
    outstanding: { credits: 0, uses: 0 },
  };
}
