/**
 * Mutation tests on a real Redis log: each way an intruder with Redis access could change the
 * log is detected by verification, and located (the seq and what is wrong there).
 *
 * The log: 10 users x 3 events = 30 events in segments of 10 (keys `<prefix>:log:0..2`).
 */
import assert from "node:assert/strict";
import { auditStore } from "../../src/audit/audit.ts";
import type { BreakKind, Checkpoint } from "../../src/audit/verify.ts";
import {
  readSegment,
  rechain,
  rewriteSegment,
  type TamperRig,
  tamperRig,
  writeRounds,
} from "./fixture.ts";

const SEGMENT = 10;

async function withLog(fn: (rig: TamperRig) => Promise<void>): Promise<void> {
  const rig = tamperRig(SEGMENT);
  try {
    await writeRounds(rig.store, 10);
    assert.equal((await rig.store.head()).seq, 30);
    await fn(rig);
  } finally {
    await rig.close();
  }
}

/** Verifies with small pages (so pages and segments both have boundaries in play). */
async function verify(rig: TamperRig, checkpoints: Checkpoint[] = [], from?: Checkpoint) {
  return (await auditStore(rig.store, { checkpoints, from, pageSize: 4, inFlight: 3 })).verify;
}

async function assertBreak(
  rig: TamperRig,
  kind: BreakKind,
  seq: number,
  checkpoints: Checkpoint[] = [],
) {
  const result = await verify(rig, checkpoints);
  assert.equal(result.ok, false, "tampering went unnoticed");
  assert.equal(result.break?.kind, kind, result.break?.message);
  assert.equal(result.break?.seq, seq, result.break?.message);
  assert.ok(result.through.seq <= seq, "nothing after the break counts as verified");
  return result;
}

const seg = (rig: TamperRig, n: number) => `${rig.prefix}:log:${n}`;

Deno.test("the untouched log verifies from genesis and from a checkpoint", async () => {
  await withLog(async (rig) => {
    const head = await rig.store.head();
    const full = await verify(rig, [{ seq: head.seq, hash: head.hash }]);
    assert.equal(full.ok, true, full.break?.message);
    assert.equal(full.complete, true);
    assert.equal(full.events, 30);
    assert.deepEqual(full.through, { seq: 30, hash: head.hash, at: head.at });
    const at20 = (await rig.store.readEvents(19, 1))[0];
    const partial = await verify(rig, [], { seq: 20, hash: at20.hash });
    assert.equal(partial.ok, true);
    assert.equal(partial.events, 10, "only the events after the checkpoint are read");
  });
});

Deno.test("a modified field is located at its event", async () => {
  await withLog(async (rig) => {
    await rewriteSegment(rig.raw, seg(rig, 0), (entries) => {
      const e = entries[4]; // seq 5: user1's second credit
      e.fields.d = e.fields.d.replace(/"expiresAt":\d+/, '"expiresAt":9999999999999');
      return entries;
    });
    const result = await assertBreak(rig, "hash_mismatch", 5);
    assert.equal(result.through.seq, 4);
  });
  await withLog(async (rig) => {
    await rewriteSegment(rig.raw, seg(rig, 1), (entries) => {
      entries[3].fields.a = String(Number(entries[3].fields.a) - 60_000); // seq 14 backdated
      return entries;
    });
    await assertBreak(rig, "hash_mismatch", 14);
  });
});

Deno.test("a modified event re-hashed by the intruder breaks the next link", async () => {
  await withLog(async (rig) => {
    await rewriteSegment(rig.raw, seg(rig, 0), (entries) => {
      entries[5].fields.d = entries[5].fields.d.replace("push1", "pushX"); // seq 6
      rechain([entries[5]], entries[4].fields.h);
      return entries;
    });
    await assertBreak(rig, "hash_mismatch", 7);
  });
});

Deno.test("a deleted entry is located as a gap", async () => {
  await withLog(async (rig) => {
    await rig.raw.xdel(seg(rig, 1), "12-0");
    const result = await assertBreak(rig, "gap", 12);
    assert.equal(result.break?.found, 13);
  });
  await withLog(async (rig) => {
    await rig.raw.xdel(seg(rig, 1), "11-0"); // the first entry of a segment
    await assertBreak(rig, "gap", 11);
  });
});

Deno.test("a forged entry inserted between two events is located", async () => {
  await withLog(async (rig) => {
    const forged = { t: "FormIdCollected", a: "0", d: '{"openId":"x"}', h: "0".repeat(64) };
    await rewriteSegment(rig.raw, seg(rig, 0), (entries) => {
      entries.splice(6, 0, { id: "6-1", fields: forged }); // after seq 6
      return entries;
    });
    const result = await assertBreak(rig, "unexpected_entry", 6);
    assert.equal(result.through.seq, 6);
  });
  await withLog(async (rig) => {
    // At the end of a segment (and of a page): the reader must not skip it.
    const forged = { t: "FormIdCollected", a: "0", d: '{"openId":"x"}', h: "0".repeat(64) };
    await rig.raw.xadd(seg(rig, 0), "10-1", ...Object.entries(forged).flat());
    await assertBreak(rig, "unexpected_entry", 10);
  });
});

Deno.test("two reordered entries are located at the first of them", async () => {
  await withLog(async (rig) => {
    await rewriteSegment(rig.raw, seg(rig, 1), (entries) => {
      // seq 15 and 16 swap places: ids stay increasing, contents change order.
      const [a, b] = [entries[4].fields, entries[5].fields];
      [entries[4].fields, entries[5].fields] = [b, a];
      return entries;
    });
    await assertBreak(rig, "hash_mismatch", 15);
  });
});

Deno.test("a truncated tail is caught by the head, or by a checkpoint when the head is rewritten", async () => {
  await withLog(async (rig) => {
    const head = await rig.store.head();
    const checkpoint = { seq: head.seq, hash: head.hash };
    await rig.raw.xdel(seg(rig, 2), "26-0", "27-0", "28-0", "29-0", "30-0");
    await assertBreak(rig, "truncated", 26);
    // The intruder also moves the head back to seq 25: the log is then self-consistent...
    const at25 = (await readSegment(rig.raw, seg(rig, 2))).at(-1)!;
    await rig.raw.hset(`${rig.prefix}:head`, "seq", 25, "hash", at25.fields.h);
    assert.equal((await verify(rig)).ok, true, "without a checkpoint a cut tail is invisible");
    // ...but not with the checkpoint an auditor recorded before.
    const result = await assertBreak(rig, "truncated", 26, [checkpoint]);
    assert.equal(result.break?.expected, 30);
  });
});

Deno.test("a whole segment rewritten with a self-consistent chain is caught", async () => {
  // A middle segment: the next segment's first event no longer links to it.
  await withLog(async (rig) => {
    const before = (await readSegment(rig.raw, seg(rig, 0))).at(-1)!.fields.h;
    await rewriteSegment(rig.raw, seg(rig, 1), (entries) => {
      for (const e of entries) e.fields.d = e.fields.d.replaceAll("user", "usr");
      rechain(entries, before);
      return entries;
    });
    await assertBreak(rig, "hash_mismatch", 21);
  });
  // The last segment, head left alone: the head no longer matches.
  await withLog(async (rig) => {
    const before = (await readSegment(rig.raw, seg(rig, 1))).at(-1)!.fields.h;
    await rewriteSegment(rig.raw, seg(rig, 2), (entries) => {
      for (const e of entries) e.fields.d = e.fields.d.replaceAll("user", "usr");
      rechain(entries, before);
      return entries;
    });
    await assertBreak(rig, "head_mismatch", 30);
  });
  // The last segment and the head: only a recorded checkpoint tells.
  await withLog(async (rig) => {
    const at25 = (await rig.store.readEvents(24, 1))[0];
    const before = (await readSegment(rig.raw, seg(rig, 1))).at(-1)!.fields.h;
    let last = "";
    await rewriteSegment(rig.raw, seg(rig, 2), (entries) => {
      for (const e of entries) e.fields.d = e.fields.d.replaceAll("user", "usr");
      last = rechain(entries, before);
      return entries;
    });
    await rig.raw.hset(`${rig.prefix}:head`, "hash", last);
    assert.equal((await verify(rig)).ok, true, "a consistent forgery passes without checkpoints");
    await assertBreak(rig, "checkpoint_mismatch", 25, [{ seq: 25, hash: at25.hash }]);
  });
});

Deno.test("an entry whose data is not JSON is located", async () => {
  await withLog(async (rig) => {
    await rewriteSegment(rig.raw, seg(rig, 1), (entries) => {
      entries[6].fields.d = "{not json"; // seq 17
      return entries;
    });
    const result = await assertBreak(rig, "malformed", 17);
    assert.equal(result.through.seq, 16);
  });
});

Deno.test("verifying from a checkpoint proves nothing before it", async () => {
  await withLog(async (rig) => {
    const at20 = (await rig.store.readEvents(19, 1))[0];
    await rewriteSegment(rig.raw, seg(rig, 0), (entries) => {
      entries[2].fields.d = entries[2].fields.d.replace("push0", "pushX");
      return entries;
    });
    const partial = await verify(rig, [], { seq: 20, hash: at20.hash });
    assert.equal(partial.ok, true, "events before the starting checkpoint are not read");
    assert.equal((await verify(rig)).break?.seq, 3, "a full verification finds it");
  });
});
