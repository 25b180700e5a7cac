/**
 * What every endpoint of the WeChat simulator shares: its state, its clock, its request ids and
 * its error answers.
 *
 * @module
 */
import type { Context } from "hono";
import { isObj, type Json, randomId, type SimOptions, type SimState } from "./state.ts";

/** What every endpoint of the simulator shares: its state, its clock and its answers. */
export interface SimContext {
  s: SimState;
  opts: SimOptions;
  /** Aborted by `close()`: cuts injected waits short. */
  stop: AbortSignal;
  /** The simulated clock: real time plus `clockOffsetMs`. */
  now(): number;
  /** WeChat's request id, appended to every errmsg. */
  rid(): string;
  /** Adds one to a counter. */
  bump(m: Record<string, number>, k: string): number;
  /** A WeChat error answer (HTTP 200, `{ errcode, errmsg }`), counted as a rejection. */
  fail(c: Context, errcode: number, errmsg: string): Response;
  /** The body as a JSON object, or null. */
  readJson(c: Context): Promise<Json | null>;
}

/**
 * The shared helpers over one state.
 *
 * @example
 * ```ts
 * const ctx = simContext(freshState({}), {}, new AbortController().signal);
 * ```
 */
export function simContext(s: SimState, opts: SimOptions, stop: AbortSignal): SimContext {
  const now = () => Date.now() + s.clockOffsetMs;
  const rid = () => `${Math.floor(now() / 1000).toString(16)}-${randomId(8)}-${randomId(8)}`;
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  return {
    s,
    opts,
    stop,
    now,
    rid,
    bump,
    fail(c, errcode, errmsg) {
      bump(s.stats.rejections, String(errcode));
      return c.json({ errcode, errmsg: `${errmsg} rid: ${rid()}` });
    },
    async readJson(c) {
      try {
        const body = await c.req.json();
        return isObj(body) ? body : null;
      } catch {
        return null;
      }
    },
  };
}
