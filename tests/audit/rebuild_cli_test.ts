/**
 * `deno task rebuild` (tools/rebuild.ts): the projection rebuilt from the log while the log
 * stays as it is; one rebuild at a time.
 */
import assert from "node:assert/strict";
import { runTool, storeEnv } from "./cli.ts";
import { HOUR, T0, tamperRig, writeRounds } from "./fixture.ts";

const AT = String(T0 + HOUR);
const replay = (args: string[], env: Record<string, string> = {}) => runTool("replay", args, env);
const rebuild = (args: string[], env: Record<string, string> = {}) => runTool("rebuild", args, env);

Deno.test("rebuild CLI: a projection changed behind the log's back is rebuilt from the log", async () => {
  const rig = tamperRig(10);
  try {
    await writeRounds(rig.store, 10);
    await rig.raw.hset(`${rig.prefix}:p0:u:user3`, "a3", `${T0 + 9 * 86_400_000}|5|f|`);
    assert.equal((await replay(["--at", AT], storeEnv(rig))).code, 1, "the mismatch is found");

    // Another rebuild holds the lock: refused, nothing changed.
    await rig.raw.set(`${rig.prefix}:rebuild`, "someone-else", "PX", 60_000);
    const busy = await rebuild(["--at", AT], storeEnv(rig));
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /rebuild refused: a rebuild .* is already running/);
    await rig.raw.del(`${rig.prefix}:rebuild`);

    const done = await rebuild(["--at", AT], storeEnv(rig));
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /30 events folded, 10 users/);
    const again = await replay(["--at", AT], storeEnv(rig));
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /10 users compared, 0 mismatches/);

    assert.equal((await rebuild([])).code, 2, "no store configured");
    assert.equal((await rebuild(["--at", "soon"], storeEnv(rig))).code, 2);
  } finally {
    await rig.close();
  }
});
