import assert from "node:assert/strict";
import { resolveClientIp } from "../../../src/http/middleware/client_ip.ts";
import { normalizeIp, parseIpRange } from "../../../src/shared/ip_range.ts";
import { call, login, startRig, STORES } from "../login_helpers.ts";

const trusted = ["10.0.0.0/8", "::1"].map((r) => parseIpRange(r)!);

Deno.test("client IP: the forwarding header is believed only from a trusted proxy", () => {
  const cases: [string | undefined, string | undefined, string][] = [
    // peer, X-Forwarded-For, client
    ["203.0.113.9", "1.1.1.1", "203.0.113.9"], // not a proxy: the header is the client's own
    ["10.0.0.2", "1.1.1.1", "1.1.1.1"],
    ["10.0.0.2", "6.6.6.6, 1.1.1.1", "1.1.1.1"], // left of the proxy's entry may be forged
    ["10.0.0.2", "6.6.6.6, 1.1.1.1, 10.0.0.3", "1.1.1.1"], // two proxies: skip the second
    ["10.0.0.2", "10.0.0.9, 10.0.0.3", "10.0.0.9"], // all proxies: the left-most
    ["10.0.0.2", "garbage, 1.1.1.1", "1.1.1.1"],
    ["10.0.0.2", "1.1.1.1, garbage", "10.0.0.2"], // unreadable hop: the last believable one
    ["::ffff:10.0.0.2", "2001:db8::1", "2001:db8::1"], // IPv4-mapped peer
    ["::1", " 2.2.2.2 ", "2.2.2.2"],
    ["10.0.0.2", undefined, "10.0.0.2"],
    [undefined, "1.1.1.1", "unknown"],
  ];
  for (const [peer, xff, expected] of cases) {
    assert.equal(resolveClientIp(peer, xff, trusted), expected, `${peer} + ${xff}`);
  }
  assert.equal(resolveClientIp("10.0.0.2", "1.1.1.1", []), "10.0.0.2", "no proxies: peer");
});

for (const store of STORES) {
  Deno.test(`client IP (${store}): a spoofed X-Forwarded-For from an untrusted peer does not escape the per-IP limit`, async () => {
    // The test's requests come from 127.0.0.1, which is not a trusted proxy here.
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "100",
      RATE_LIMIT_PER_IP: "3",
      RATE_LIMIT_WINDOW_SECONDS: "3600",
      CLIENT_IP_HEADER: "X-Forwarded-For",
      TRUSTED_PROXIES: "10.0.0.0/8",
    });
    try {
      const user = await login(rig, "spoofer");
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const reply = await call(
          `${rig.svc.url}/v1/formids`,
          "POST",
          { formIds: [`f${i}`] },
          user.token,
          { "x-forwarded-for": `198.51.100.${i}` },
        );
        statuses.push(reply.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429], "one bucket: the peer address");
    } finally {
      await rig.close();
    }
  });
}

Deno.test("normalizeIp: the same answers on first sight and when remembered, invalid included", () => {
  const cases: [string, string | null][] = [
    ["::ffff:10.0.0.1", "10.0.0.1"],
    ["10.0.0.1", "10.0.0.1"],
    ["2001:db8:0:0::1", "2001:db8::1"],
    ["not-an-ip", null],
    ["", null],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [input, want] of cases) {
      assert.equal(normalizeIp(input), want, `${input} (${round})`);
    }
  }
  // Far more distinct addresses than are remembered: still right, memory stays bounded.
  for (let i = 0; i < 25_000; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(normalizeIp(`::ffff:${address}`), address);
  }
});
