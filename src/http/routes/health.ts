/**
 * `GET /healthz`: which store backs the ledger, whether it answers, how many events wait to be
 * sealed into the hash chain (a number that keeps growing means sealing is stuck), and how many
 * delivery outcomes wait in this instance's outbox to be written (they are written as soon as
 * the store answers; a number that stays above 0 means the store is out of reach).
 *
 * @module
 */
import { Hono } from "hono";
import type { LedgerStore } from "../../ledger/store.ts";
import type { OutboxStatus } from "../../push/outbox.ts";
import { describeHealth } from "../schemas/health.ts";

/**
 * Health routes: 200 when the store answers, 503 when it does not. `outbox` is the push
 * service's (absent without WeChat credentials).
 *
 * @example
 * ```ts
 * app.route("/", healthRoutes(store, push?.outbox));
 * ```
 */
export function healthRoutes(store: LedgerStore, outbox?: { status(): OutboxStatus }): Hono {
  return new Hono().get("/healthz", describeHealth, async (c) => {
    const ok = await store.ping().catch(() => false);
    const unsealed = ok ? await store.unsealed().catch(() => null) : null;
    const waiting = outbox?.status();
    return c.json(
      {
        status: ok ? "ok" : "unavailable",
        store: store.kind,
        storeAnswers: ok,
        unsealed,
        // With push configured: outcomes this instance holds until the store takes them.
        ...(waiting ? { outcomesWaiting: waiting.waiting, outbox: waiting } : {}),
      },
      ok ? 200 : 503,
    );
  });
}
