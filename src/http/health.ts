/**
 * `GET /healthz`: which store backs the ledger and whether it answers.
 *
 * @module
 */
import { Hono } from "hono";
import type { LedgerStore } from "../store/store.ts";

/** Health routes: 200 when the store answers, 503 when it does not. */
export function healthRoutes(store: LedgerStore): Hono {
  return new Hono().get("/healthz", async (c) => {
    const ok = await store.ping().catch(() => false);
    return c.json(
      { status: ok ? "ok" : "unavailable", store: store.kind, storeAnswers: ok },
      ok ? 200 : 503,
    );
  });
}
