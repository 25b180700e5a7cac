/**
 * The template registry's store reads: lookups reuse a read for `cacheMs`; when the cache has
 * expired, the lookups made meanwhile share one store read; a sync's templates are read afresh,
 * never answered by a read begun before it.
 */
import assert from "node:assert/strict";
import type { RegisteredTemplate } from "../../src/ledger/registry.ts";
import { ManualClock } from "../../src/shared/clock.ts";
import { MemoryStore } from "../../src/store/memory/memory.ts";
import { TemplateRegistry } from "../../src/subscribe/registry.ts";

const template = (id: string): RegisteredTemplate => ({
  id,
  title: "到货提醒",
  kind: "one-time",
  keywords: [{ key: "thing1", type: "thing", label: "物品" }],
});

Deno.test("registry: lookups after the cache expired share one store read", async () => {
  const store = new MemoryStore();
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  await store.syncTemplates([template("T")], clock.now());
  let reads = 0;
  const templates = store.templates.bind(store);
  store.templates = () => (reads++, templates());
  const registry = new TemplateRegistry(store, clock, {
    source: null,
    allowList: null,
    intervalMs: 60_000,
    cacheMs: 5_000,
  });
  const found = await Promise.all(Array.from({ length: 10 }, () => registry.find("T")));
  assert.ok(found.every((t) => t?.id === "T"));
  assert.equal(reads, 1, "ten concurrent lookups, one read");
  clock.advance(4_999);
  await registry.find("T");
  assert.equal(reads, 1, "within cacheMs the read is reused");
  clock.advance(1);
  await Promise.all(Array.from({ length: 10 }, () => registry.find("T")));
  assert.equal(reads, 2, "expired: one read for all");
});

Deno.test("registry: a template a sync adds is found though a read was under way", async () => {
  const store = new MemoryStore();
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  await store.syncTemplates([template("T")], clock.now());
  let listed = [template("T")];
  const registry = new TemplateRegistry(store, clock, {
    source: () => Promise.resolve(listed),
    allowList: null,
    intervalMs: 0,
  });
  // A lookup's read begins; a sync for a new template lands before the next lookup reads.
  const early = registry.find("T");
  listed = [template("T"), template("U")];
  const late = registry.find("U");
  assert.equal((await early)?.id, "T");
  assert.equal((await late)?.id, "U");
});
