/**
 * `deno task replay` (tools/replay.ts) as an auditor runs it: against the store configured in the
 * environment, or an NDJSON export; exit code 0 only when everything verifies and matches.
 */
import assert from "node:assert/strict";
import { startService } from "../helpers/service.ts";
import { runTool, storeEnv } from "./cli.ts";
import { HOUR, T0, tamperRig, writeRounds } from "./fixture.ts";

const replay = (args: string[], env: Record<string, string> = {}) => runTool("replay", args, env);
const AT = String(T0 + HOUR);

Deno.test("replay CLI: a sound log exits 0 with the report", async () => {
  const rig = tamperRig(10);
  try {
    await writeRounds(rig.store, 10);
    const head = await rig.store.head();
    const text = await replay(
      ["--at", AT, "--checkpoint", `${head.seq}:${head.hash}`],
      storeEnv(rig),
    );
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /30 events verified from genesis through seq 30/);
    assert.match(text.stdout, /FormIdCollected\s+20/);
    assert.match(text.stdout, /10 users compared, 0 mismatches/);
    assert.match(text.stdout, /collected - consumed \+ released = expired \+ outstanding: holds/);
    assert.match(text.stdout, /result: OK$/m);
    const json = await replay(["--at", AT, "--json"], storeEnv(rig));
    assert.equal(json.code, 0);
    const result = JSON.parse(json.stdout);
    assert.deepEqual(result.report.events.byType, { FormIdCollected: 20, FormIdConsumed: 10 });
    assert.deepEqual(result.report.credits.form.outstanding, { credits: 10, uses: 10 });
    assert.equal(result.report.credits.form.consumed, 10);
    assert.deepEqual(result.verify.through.hash, head.hash);
    // By default a worker verifies while the main thread folds; --one-thread gives the same.
    const one = await replay(["--at", AT, "--json", "--one-thread"], storeEnv(rig));
    assert.equal(one.code, 0);
    const untimed = (r: { verify: { elapsedMs: number } }) => ({
      ...r,
      verify: { ...r.verify, elapsedMs: 0 },
    });
    assert.deepEqual(untimed(JSON.parse(one.stdout)), untimed(result));
  } finally {
    await rig.close();
  }
});

Deno.test("replay CLI: a broken link or a projection mismatch exits 1 and says where", async () => {
  const rig = tamperRig(10);
  try {
    await writeRounds(rig.store, 10);
    await rig.raw.hset(`${rig.prefix}:p0:u:user3`, "a3", `${T0 + 9 * 86_400_000}|5|f|`);
    const mismatch = await replay(["--at", AT], storeEnv(rig));
    assert.equal(mismatch.code, 1);
    assert.match(
      mismatch.stdout,
      /MISMATCH user3: log says 1 credits \/ 1 sends, live says 2 \/ 6/,
    );
    await rig.raw.xdel(`${rig.prefix}:log:1`, "12-0");
    const broken = await replay(["--at", AT], storeEnv(rig));
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN at seq 12 \(gap\): event 12 is missing/);
    assert.match(broken.stdout, /result: FAILED \(chain broken at seq 12\)/);
  } finally {
    await rig.close();
  }
});

Deno.test("replay CLI: an export file verifies; a cut one fails against its head", async () => {
  const rig = tamperRig(10);
  const svc = await startService({ store: "redis", env: { LEDGER_PREFIX: rig.prefix } });
  const file = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    await writeRounds(rig.store, 10);
    const res = await fetch(`${svc.url}/v1/events`, {
      headers: {
        authorization: `Bearer ${svc.config.auditToken}`,
        accept: "application/x-ndjson",
      },
    });
    const head = `${res.headers.get("x-ledger-head-seq")}:${res.headers.get("x-ledger-head-hash")}`;
    const text = await res.text();
    await Deno.writeTextFile(file, text);
    const whole = await replay(["--file", file, "--checkpoint", head, "--at", AT, "--json"]);
    assert.equal(whole.code, 0, whole.stdout + whole.stderr);
    const result = JSON.parse(whole.stdout);
    assert.equal(result.verify.events, 30);
    assert.equal(result.report.credits.form.outstanding.uses, 10);
    assert.equal(result.comparison, undefined, "a file has no live projection to compare");

    const at20 = JSON.parse(text.split("\n")[19]);
    const fromCheckpoint = await replay(["--file", file, "--from", `20:${at20.hash}`, "--json"]);
    assert.equal(fromCheckpoint.code, 0, fromCheckpoint.stdout + fromCheckpoint.stderr);
    const partial = JSON.parse(fromCheckpoint.stdout);
    assert.equal(partial.verify.events, 10, "the export's first 20 events are skipped");
    assert.deepEqual(partial.verify.through.seq, 30);
    const wrongStart = await replay(["--file", file, "--from", `20:${"0".repeat(64)}`]);
    assert.equal(wrongStart.code, 1);
    assert.match(wrongStart.stdout, /BROKEN at seq 21 \(prev_mismatch\)/);

    await Deno.writeTextFile(file, text.split("\n").slice(0, 27).join("\n") + "\n");
    const cut = await replay(["--file", file, "--checkpoint", head, "--at", AT]);
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, /BROKEN at seq 28 \(truncated\)/);
  } finally {
    await Deno.remove(file);
    await svc.close();
    await rig.close();
  }
});

Deno.test("replay CLI: usage and setup errors exit 2", async () => {
  assert.equal((await replay(["--bogus"])).code, 2);
  assert.equal((await replay(["--checkpoint", "12"])).code, 2);
  const noStore = await replay([]);
  assert.equal(noStore.code, 2);
  assert.match(noStore.stderr, /no store configured/);
  assert.equal((await replay(["--file", "/nonexistent/export.ndjson"])).code, 2);
});
