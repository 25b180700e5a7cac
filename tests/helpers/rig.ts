/** Helpers for test files run by `deno task test` (tests/run.ts sets the environment). */

/** Where the test Upstash REST bridge listens, from TEST_UPSTASH_URL / TEST_UPSTASH_TOKEN. */
export function upstashFromEnv(): { url: string; token: string } {
  const url = Deno.env.get("TEST_UPSTASH_URL");
  const token = Deno.env.get("TEST_UPSTASH_TOKEN");
  if (!url || !token) {
    throw new Error(
      "TEST_UPSTASH_URL / TEST_UPSTASH_TOKEN are not set: run the tests with `deno task test`",
    );
  }
  return { url, token };
}

/** A fresh key prefix `t:<name>:<random>`, so tests sharing one Redis never collide. */
export function uniquePrefix(name: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `t:${name}:${hex}`;
}
