import assert from "node:assert/strict";
import { IsoTimes } from "../../../src/store/redis/iso_time.ts";

Deno.test("IsoTimes writes what toISOString writes, across days, years and edges", () => {
  const times = new IsoTimes();
  const edges = [
    0,
    -1,
    999,
    86_399_999,
    86_400_000,
    -86_400_001,
    951_782_399_999, // 2000-02-28T23:59:59.999Z, then a leap day
    951_868_800_000,
    1_764_000_000_123,
    Date.UTC(0, 0, 1),
    Date.UTC(0, 0, 1) - 1, // year -1: Date's extended form
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(10_000, 0, 1),
    8.64e15,
  ];
  for (const ms of edges) assert.equal(times.format(ms), new Date(ms).toISOString(), String(ms));
  // Random times, in order and out of order, so the cached day is reused and replaced.
  let ms = 1_700_000_000_000;
  for (let i = 0; i < 20_000; i++) {
    ms = i % 7 === 0
      ? Math.floor((Math.random() * 2 - 1) * 3e14)
      : ms + Math.floor(Math.random() * 4e6);
    assert.equal(times.format(ms), new Date(ms).toISOString(), String(ms));
  }
});

Deno.test("IsoTimes refuses an invalid time as Date does", () => {
  const times = new IsoTimes();
  assert.throws(() => times.format(NaN), RangeError);
  assert.throws(() => times.format(8.64e15 + 1), RangeError);
  assert.equal(times.format(1.5), new Date(1.5).toISOString());
});
