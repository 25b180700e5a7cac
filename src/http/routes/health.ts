/**
 * `GET /healthz`: which store backs the ledger, whether it answers, and how many events wait to
 * be sealed into the hash chain (a number that keeps growing means sealing is stuck).
 *
 * @module
 */
import { Hono } from "hono";
import type { LedgerStore } from "../../ledger/store.ts";
import { describeHealth } from "../schemas/health.ts";

/** Health routes: 200 when the store answers, 503 when it does not. */
export function healthRoutes(store: LedgerStore): Hono {
  return new Hono().get("/healthz", describeHealth, async (c) => {
    const ok = await store.ping().catch(() => false);
    const unsealed = ok ? await store.unsealed().catch(() => null) : null;
    return c.json(
      { status: ok ? "ok" : "unavailable", store: store.kind, storeAnswers: ok, unsealed },
      ok ? 200 : 503,
    );
  });
}
