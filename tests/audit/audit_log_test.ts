/**
 * The benchmarks' log writer (bench/audit_log.ts) leaves exactly the layout the store appends
 * and seals: the store reads, verifies and keeps appending to (and sealing) a log it wrote.
 */
import assert from "node:assert/strict";
import { auditStore } from "../../src/audit/audit.ts";
import { syntheticEvents, writeLog } from "../../bench/audit_log.ts";
import {
  chainKey,
  form,
  readChain,
  readHead,
  readSegment,
  segmentKey,
  tamperRig,
} from "./fixture.ts";

Deno.test("writeLog writes a sealed log the store verifies and appends to", async () => {
  const rig = tamperRig(10);
  try {
    // Pipelines of 7 entries: APPENDs split at segment ends and at pipeline ends.
    const events = [...syntheticEvents({ events: 57, seed: 3 })];
    const written = await writeLog(rig.raw, rig.prefix, events, {
      segmentEvents: 10,
      chainChunk: 10,
      batch: 7,
    });
    assert.equal(written.events, 57);
    assert.deepEqual(await readHead(rig), {
      seq: "57",
      at: String(events[56].atMs),
      seg: "10",
      chunk: "10",
      sealed: "57",
      hash: written.head.hash,
    });
    const stored = await rig.store.readEvents(0, 100);
    assert.equal(stored.length, 57);
    for (let n = 0; n < 6; n++) {
      const entries = await readSegment(rig.raw, segmentKey(rig, n));
      const expected = stored.slice(n * 10, (n + 1) * 10);
      assert.deepEqual(entries.map((e) => e.id), expected.map((e) => `${e.seq}-0`));
      assert.ok(entries.every((e) => Object.keys(e.fields).join() === "t,a,d"));
      assert.deepEqual(await readChain(rig.raw, chainKey(rig, n)), expected.map((e) => e.hash));
    }
    assert.equal(await rig.raw.exists(chainKey(rig, 6)), 0);
    const audit = await auditStore(rig.store, { pageSize: 8 });
    assert.equal(audit.verify.ok, true, audit.verify.break?.message);
    assert.equal(audit.verify.through.hash, written.head.hash);
    // The store appends after it and seals on top of its chain strings.
    const late = ["late1", "late2", "late3", "late4"].map((id) => form(id));
    await rig.store.collect("late", late, events[56].atMs + 1000);
    const head = await rig.store.head();
    assert.equal(head.seq, 61);
    assert.equal((await readChain(rig.raw, chainKey(rig, 5))).length, 10);
    assert.equal((await readChain(rig.raw, chainKey(rig, 6))).length, 1);
    const again = await auditStore(rig.store, { pageSize: 8 });
    assert.equal(again.verify.ok, true, again.verify.break?.message);
    assert.equal(again.verify.through.hash, head.hash);
  } finally {
    await rig.close();
  }
});
