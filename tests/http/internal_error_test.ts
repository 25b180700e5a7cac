import assert from "node:assert/strict";
import { issueSession } from "../../src/http/middleware/session_token.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { startService, TEST_ENV } from "../helpers/service.ts";

Deno.test("a failing store answers 500 in the error shape; the log line has no stack or secret", async () => {
  const svc = await startService({
    store: "redis",
    env: {
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "redis-token-xyz",
    },
  });
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    const { token } = await issueSession("o-user", TEST_ENV.SESSION_SECRET, 600, systemClock);
    const res = await fetch(`${svc.url}/v1/formids`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ formIds: ["f1"] }),
    });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { code: "internal", message: "internal error" } });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0], /\n|\s+at\s.+:\d+:\d+|redis-token-xyz|test-session-secret/);
    assert.ok(!lines[0].includes(token));
  } finally {
    console.error = original;
    await svc.close();
  }
});
