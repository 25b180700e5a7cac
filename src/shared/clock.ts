/** Where the ledger gets the time: injectable, so tests can move it. @module */

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.time += ms;
  }
}
