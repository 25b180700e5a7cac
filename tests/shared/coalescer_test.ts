import assert from "node:assert/strict";
import { Coalescer } from "../../src/shared/coalescer.ts";

Deno.test("coalescer: concurrent adds share a batch; each gets its own result, in order", async () => {
  const batches: number[][] = [];
  const doubler = new Coalescer((items: number[]) => {
    batches.push(items);
    return Promise.resolve(items.map((n) => n * 2));
  });
  const results = await Promise.all([1, 2, 3, 4].map((n) => doubler.add(n)));
  assert.deepEqual(results, [2, 4, 6, 8]);
  assert.deepEqual(batches, [[1, 2, 3, 4]]);
});

Deno.test("coalescer: adds made while a batch runs wait for the next one; maxBatch caps it", async () => {
  const batches: number[][] = [];
  let release = () => {};
  const gate = new Promise<void>((r) => release = r);
  const echo = new Coalescer(async (items: number[]) => {
    batches.push(items);
    if (batches.length === 1) await gate;
    return items;
  }, { maxBatch: 2 });
  const first = echo.add(1);
  await new Promise((r) => setTimeout(r, 5)); // the first batch is now running alone
  const later = [2, 3, 4].map((n) => echo.add(n));
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(batches, [[1]], "one batch in flight at a time");
  release();
  assert.deepEqual(await Promise.all([first, ...later]), [1, 2, 3, 4]);
  assert.deepEqual(batches, [[1], [2, 3], [4]]);
});

Deno.test("coalescer: a failed batch fails only its own items", async () => {
  let calls = 0;
  const flaky = new Coalescer((items: string[]) => {
    calls++;
    return calls === 1 ? Promise.reject(new Error("boom")) : Promise.resolve(items);
  });
  const failed = await Promise.allSettled([flaky.add("a"), flaky.add("b")]);
  assert.deepEqual(failed.map((s) => s.status), ["rejected", "rejected"]);
  assert.equal((failed[0] as PromiseRejectedResult).reason.message, "boom");
  assert.deepEqual(await Promise.all([flaky.add("c"), flaky.add("d")]), ["c", "d"]);
  const short = new Coalescer((_: number[]) => Promise.resolve([1]));
  await assert.rejects(Promise.all([short.add(1), short.add(2)]), /batch of 2 answered 1/);
});

Deno.test("coalescer: maxWeight caps a batch's total weight; a heavier item goes alone", async () => {
  const batches: number[][] = [];
  const sum = new Coalescer((items: number[]) => {
    batches.push(items);
    return Promise.resolve(items);
  }, { maxWeight: 10, weigh: (n) => n });
  await Promise.all([4, 5, 2, 12, 3, 3].map((n) => sum.add(n)));
  assert.deepEqual(batches, [[4, 5], [2], [12], [3, 3]]);
});
