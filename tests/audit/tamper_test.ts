/**
 * Mutation tests on a real Redis log: each way an intruder with Redis access could change the
 * log is detected by verification, and located (the seq and what is wrong there).
 *
 * The log: 10 users x 3 events = 30 events in segments of 10: entries in the streams
 * `<prefix>:log:0..2`, their hashes in the chain strings `<prefix>:chain:0..2`, all sealed.
 */
import assert from "node:assert/strict";
import { type AuditResult, auditStore } from "../../src/audit/audit.ts";
import { auditRedisInParallel } from "../../src/audit/parallel.ts";
import { redisParallelLog } from "../../src/backends.ts";
import { createRedisStore } from "../../src/store/redis/redis.ts";
import type { Checkpoint } from "../../src/audit/checkpoint.ts";
import type { BreakKind } from "../../src/audit/verify.ts";
import {
  chainHash,
  chainKey,
  entryFieldList,
  type RawEntry,
  readChain,
  readHead,
  readSegment,
  rechain,
  rewriteChain,
  rewriteSegment,
  segmentKey,
  setChainHash,
  T0,
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
    assert.equal(
      (await readHead(rig)).sealed,
      "30",
      "the log is sealed before it is tampered with",
    );
    await fn(rig);
  } finally {
    await rig.close();
  }
}

/**
 * Verifies with small pages (so pages and segments both have boundaries in play), on one thread
 * and on two (`auditRedisInParallel`), which must find exactly the same, replay included.
 */
async function verify(rig: TamperRig, checkpoints: Checkpoint[] = [], from?: Checkpoint) {
  const options = { checkpoints, from, pageSize: 4, inFlight: 3, replay: !from, now: T0 };
  const one = await auditStore(rig.store, options);
  const two = await inParallel(rig, options);
  assert.deepEqual(withoutTimes(two), withoutTimes(one), "one thread and two disagree");
  return one.verify;
}

/** The two-thread audit on a store of its own, as `deno task replay` opens one. */
function inParallel(rig: TamperRig, options: Parameters<typeof auditRedisInParallel>[1]) {
  const log = redisParallelLog(createRedisStore(rig.connection), rig.connection);
  return auditRedisInParallel(log, options);
}

function withoutTimes(result: AuditResult) {
  return { ...result, verify: { ...result.verify, elapsedMs: 0 } };
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

const seg = segmentKey;

/**
 * Rewrites segment `n` with `change(entries)` and re-hashes it as a self-consistent chain from
 * the last hash of the segment before (entries and chain string); returns its last hash.
 */
async function forgeSegment(
  rig: TamperRig,
  n: number,
  change: (entries: RawEntry[]) => void,
): Promise<string> {
  const before = await chainHash(rig, n * SEGMENT);
  let hashes: string[] = [];
  await rewriteSegment(rig.raw, seg(rig, n), (entries) => {
    change(entries);
    hashes = rechain(entries, before);
    return entries;
  });
  await rewriteChain(rig.raw, chainKey(rig, n), () => hashes);
  return hashes.at(-1)!;
}

Deno.test("the sealed log has the documented layout", async () => {
  await withLog(async (rig) => {
    const head = await readHead(rig);
    const events = await rig.store.readEvents(0, 100);
    assert.deepEqual(head, {
      seq: "30",
      at: String(Date.parse(events[29].at)),
      seg: String(SEGMENT),
      chunk: String(SEGMENT),
      sealed: "30",
      hash: events[29].hash,
    });
    for (let n = 0; n < 3; n++) {
      const entries = await readSegment(rig.raw, seg(rig, n));
      const hashes = await readChain(rig.raw, chainKey(rig, n));
      const expected = events.slice(n * SEGMENT, (n + 1) * SEGMENT);
      assert.deepEqual(entries.map((e) => e.id), expected.map((e) => `${e.seq}-0`));
      // One field e = t ␟ a ␟ d, read back here as its parts.
      const raw = await rig.raw.xrange(seg(rig, n), "-", "+");
      assert.deepEqual(raw.map(([, fields]) => fields[0]), expected.map(() => "e"));
      assert.deepEqual(
        entries.map((e) => [Object.keys(e.fields), e.fields.a]),
        expected.map((e) => [["t", "a", "d"], String(Date.parse(e.at))]),
      );
      assert.deepEqual(hashes, expected.map((e) => e.hash));
    }
  });
});

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
      // A FormIdCollected's positional data starts with expiresAt (src/store/redis/entry.ts).
      assert.equal(e.fields.t, "C");
      e.fields.d = e.fields.d.replace(/^\d+/, "9999999999999");
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
    const prev = await chainHash(rig, 5);
    let hash = "";
    await rewriteSegment(rig.raw, seg(rig, 0), (entries) => {
      entries[5].fields.d = entries[5].fields.d.replace("push1", "pushX"); // seq 6
      [hash] = rechain([entries[5]], prev);
      return entries;
    });
    await setChainHash(rig, 6, hash);
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
    const forged = { t: "FormIdCollected", a: "0", d: '{"openId":"x"}' };
    await rewriteSegment(rig.raw, seg(rig, 0), (entries) => {
      entries.splice(6, 0, { id: "6-1", fields: forged }); // after seq 6
      return entries;
    });
    const result = await assertBreak(rig, "unexpected_entry", 6);
    assert.equal(result.through.seq, 6);
  });
  await withLog(async (rig) => {
    // At the end of a segment (and of a page): the reader must not skip it.
    const forged = { t: "FormIdCollected", a: "0", d: '{"openId":"x"}' };
    await rig.raw.xadd(seg(rig, 0), "10-1", ...entryFieldList(forged));
    await assertBreak(rig, "unexpected_entry", 10);
  });
});

Deno.test("two reordered entries are located at the first of them", async () => {
  await withLog(async (rig) => {
    await rewriteSegment(rig.raw, seg(rig, 1), (entries) => {
      // seq 15 and 16 swap places: ids stay increasing, contents change order...
      const [a, b] = [entries[4].fields, entries[5].fields];
      [entries[4].fields, entries[5].fields] = [b, a];
      return entries;
    });
    // ...and their recorded hashes with them.
    const [h15, h16] = [await chainHash(rig, 15), await chainHash(rig, 16)];
    await setChainHash(rig, 15, h16);
    await setChainHash(rig, 16, h15);
    await assertBreak(rig, "hash_mismatch", 15);
  });
});

Deno.test("a truncated tail is caught by the head, or by a checkpoint when the head is rewritten", async () => {
  await withLog(async (rig) => {
    const head = await rig.store.head();
    const checkpoint = { seq: head.seq, hash: head.hash };
    await rig.raw.xdel(seg(rig, 2), "26-0", "27-0", "28-0", "29-0", "30-0");
    await assertBreak(rig, "truncated", 26);
    // The chain string cut too: the head still says 30.
    await rewriteChain(rig.raw, chainKey(rig, 2), (hashes) => hashes.slice(0, 5));
    await assertBreak(rig, "truncated", 26);
    // The intruder also moves the head back to seq 25: the log is then self-consistent...
    const at25 = await chainHash(rig, 25);
    await rig.raw.hset(`${rig.prefix}:head`, "seq", 25, "sealed", 25, "hash", at25);
    assert.equal((await verify(rig)).ok, true, "without a checkpoint a cut tail is invisible");
    // ...but not with the checkpoint an auditor recorded before.
    const result = await assertBreak(rig, "truncated", 26, [checkpoint]);
    assert.equal(result.break?.expected, 30);
  });
});

Deno.test("a whole segment rewritten with a self-consistent chain is caught", async () => {
  const usr = (entries: RawEntry[]) => {
    for (const e of entries) e.fields.d = e.fields.d.replaceAll("user", "usr");
  };
  // A middle segment: the next segment's first event no longer links to it.
  await withLog(async (rig) => {
    await forgeSegment(rig, 1, usr);
    await assertBreak(rig, "hash_mismatch", 21);
  });
  // The last segment, head left alone: the head no longer matches.
  await withLog(async (rig) => {
    await forgeSegment(rig, 2, usr);
    await assertBreak(rig, "head_mismatch", 30);
  });
  // The last segment and the head: only a recorded checkpoint tells.
  await withLog(async (rig) => {
    const at25 = (await rig.store.readEvents(24, 1))[0];
    const last = await forgeSegment(rig, 2, usr);
    await rig.raw.hset(`${rig.prefix}:head`, "hash", last);
    assert.equal((await verify(rig)).ok, true, "a consistent forgery passes without checkpoints");
    await assertBreak(rig, "checkpoint_mismatch", 25, [{ seq: 25, hash: at25.hash }]);
  });
});

Deno.test("a recorded hash changed in its chain string is located at its event", async () => {
  await withLog(async (rig) => {
    await setChainHash(rig, 13, "f".repeat(64));
    const result = await assertBreak(rig, "hash_mismatch", 13);
    assert.equal(result.break?.found, "f".repeat(64));
  });
  await withLog(async (rig) => {
    await setChainHash(rig, 30, "f".repeat(64)); // the head's event: its hash field is left alone
    await assertBreak(rig, "hash_mismatch", 30);
  });
});

Deno.test("a chain string cut short or deleted is located at the first event without a hash", async () => {
  await withLog(async (rig) => {
    await rewriteChain(rig.raw, chainKey(rig, 2), (hashes) => hashes.slice(0, 5));
    const result = await assertBreak(rig, "missing_hash", 26);
    assert.equal(result.break?.found, "");
  });
  await withLog(async (rig) => {
    await rig.raw.del(chainKey(rig, 1));
    const result = await assertBreak(rig, "missing_hash", 11);
    assert.equal(result.break?.found, "");
  });
});

Deno.test("events unsealed and rewritten by the intruder are re-sealed: only a checkpoint tells", async () => {
  await withLog(async (rig) => {
    const at25 = (await rig.store.readEvents(24, 1))[0];
    // The sealed head moved back to seq 20 and segment 2's hashes dropped: the store seals
    // events 21..30 again, from whatever the entries then say.
    const at20 = await chainHash(rig, 20);
    await rig.raw.hset(`${rig.prefix}:head`, "sealed", 20, "hash", at20);
    await rig.raw.del(chainKey(rig, 2));
    await rewriteSegment(rig.raw, seg(rig, 2), (entries) => {
      for (const e of entries) e.fields.d = e.fields.d.replaceAll("user", "usr");
      return entries;
    });
    assert.equal((await verify(rig)).ok, true, "a re-sealed forgery passes without checkpoints");
    assert.equal((await readHead(rig)).sealed, "30");
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

Deno.test("a chain string of the wrong type fails both audits with Redis's error, and the worker's ends the two-thread run", async () => {
  await withLog(async (rig) => {
    await rig.raw.del(chainKey(rig, 1));
    await rig.raw.hset(chainKey(rig, 1), "not", "a string");
    const options = { pageSize: 4, inFlight: 3, replay: true, now: T0 };
    await assert.rejects(auditStore(rig.store, options), /WRONGTYPE/);
    await assert.rejects(
      inParallel(rig, options),
      /the verifying worker failed: .*WRONGTYPE/,
    );
  });
});
