/**
 * What a WeChat send's answer means for the push credit it used. Every errcode (and every way a
 * call can fail without one) falls into exactly one class, and the class decides what happens
 * to the credit:
 *
 * | class       | examples                                   | credit                | then                           |
 * |-------------|--------------------------------------------|-----------------------|--------------------------------|
 * | `ok`        | 0                                          | spent                 | done                           |
 * | `spent`     | 41028, 41029, 43101                        | gone                  | try the user's next credit     |
 * | `transient` | -1, 45011, HTTP 5xx, connection refused    | returned              | retry with backoff and jitter  |
 * | `token`     | 40001, 40014, 42001 (after one refresh)    | returned              | fail                           |
 * | `request`   | 40037, 41030, 47003, 40003, any other code | returned              | fail at once                   |
 * | `quota`     | 45009                                      | returned              | stop (a broadcast stops)       |
 * | `unknown`   | timeout after the request was sent         | counted as spent      | never sent again               |
 *
 * Failures without a WeChat errcode get a local negative code (see {@link LOCAL}).
 *
 * @module
 */

/** The classes of outcome. */
export type ErrClass = "ok" | "spent" | "transient" | "token" | "request" | "quota" | "unknown";

import { LOST_DELIVERY } from "../ledger/delivery.ts";

/** Local codes for failures WeChat gave no errcode for (all below -1000). */
export const LOCAL = {
  /** The request was sent and no answer came in time: it may have been delivered. */
  TIMEOUT: -1001,
  /** WeChat answered with an HTTP 5xx status. */
  HTTP_5XX: -1002,
  /** The connection was refused: nothing was sent. */
  REFUSED: -1003,
  /** A broadcast worker was lost after taking the credit: it may have been delivered. */
  INTERRUPTED: LOST_DELIVERY.errcode,
  /** The connection failed after it was opened, or the answer was unreadable. */
  NETWORK: -1005,
  /** No access token could be obtained (the token endpoint failed). */
  NO_TOKEN: -1006,
} as const;

/** The message an interrupted delivery is recorded with (also written by the Lua take script). */
export const INTERRUPTED_MESSAGE = LOST_DELIVERY.errmsg;

const SPENT = new Set<number>([41028, 41029, 43101]);
const TRANSIENT = new Set<number>([-1, 45011, LOCAL.HTTP_5XX, LOCAL.REFUSED, LOCAL.NO_TOKEN]);
const TOKEN = new Set<number>([40001, 40014, 42001]);
const UNKNOWN = new Set<number>([LOCAL.TIMEOUT, LOCAL.INTERRUPTED, LOCAL.NETWORK]);

/**
 * The class of an errcode (WeChat's or a local one).
 *
 * @example
 * ```ts
 * classify(41028); // "spent"
 * classify(LOCAL.TIMEOUT); // "unknown"
 * ```
 */
export function classify(errcode: number): ErrClass {
  if (errcode === 0) return "ok";
  if (SPENT.has(errcode)) return "spent";
  if (TRANSIENT.has(errcode)) return "transient";
  if (TOKEN.has(errcode)) return "token";
  if (errcode === 45009) return "quota";
  if (UNKNOWN.has(errcode)) return "unknown";
  // 40037, 41030, 47003, 40003 and anything WeChat may add: WeChat refused the request, so the
  // message was not sent and the credit is intact.
  return "request";
}

/** Whether a credit used for an outcome of this class goes back to the user. */
export function returnsCredit(cls: ErrClass): boolean {
  return cls === "transient" || cls === "token" || cls === "request" || cls === "quota";
}

/** Whether the access token that got this errcode should be dropped and the call retried once. */
export function isTokenError(errcode: number): boolean {
  return TOKEN.has(errcode);
}

/** A WeChat call that did not succeed: its errcode (WeChat's or local), message and class. */
export class WeChatError extends Error {
  readonly class: ErrClass;
  constructor(readonly errcode: number, readonly errmsg: string) {
    super(`WeChat errcode ${errcode}: ${errmsg}`);
    this.name = "WeChatError";
    this.class = classify(errcode);
  }
}
