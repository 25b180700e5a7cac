import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Redis } from "@upstash/redis";
import { upstashFromEnv } from "../helpers/rig.ts";

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

Deno.test("bridge: Upstash-only script flags are accepted, EVALSHA of the original script works", async () => {
  const redis = new Redis({ ...upstashFromEnv(), enableTelemetry: false });
  const key = `t:flags:${crypto.randomUUID()}`;
  const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
  // Before any EVAL the bridge does not know the script: NOSCRIPT, as Upstash would say.
  await assert.rejects(() => redis.evalsha(sha1(script), [key], []), /NOSCRIPT/);
  assert.equal(await redis.eval(script, [key], []), 1);
  assert.equal(await redis.evalsha(sha1(script), [key], []), 2);
  // Flags redis-server knows are kept: no-writes still forbids a write.
  const readOnly = "#!lua flags=no-writes,allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
  await assert.rejects(() => redis.eval(readOnly, [key], []), /Write commands are not allowed/);
  // Scripts without a shebang pass untouched.
  assert.equal(await redis.eval("return ARGV[1]", [], ["plain"]), "plain");
  await redis.del(key);
});
