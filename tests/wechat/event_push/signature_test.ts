/** Push signatures against WeChat's documented examples, and the timestamp window. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PushError } from "../../../src/wechat/event_push/errors.ts";
import {
  checkTimestamp,
  signatureMatches,
  signPush,
} from "../../../src/wechat/event_push/signature.ts";
import { DOC, handSign } from "./fixtures.ts";

Deno.test("signPush: the documented URL-check, plaintext and msg_signature examples", () => {
  const { verify, plain, safe, reply } = DOC;
  assert.equal(signPush([DOC.token, verify.timestamp, verify.nonce]), verify.signature);
  assert.equal(signPush([DOC.token, plain.timestamp, plain.nonce]), plain.signature);
  assert.equal(signPush([DOC.token, safe.timestamp, safe.nonce]), safe.signature);
  assert.equal(signPush([DOC.token, safe.timestamp, safe.nonce, safe.encrypt]), safe.msgSignature);
  assert.equal(
    signPush([DOC.token, reply.timestamp, reply.nonce, reply.encrypt]),
    reply.msgSignature,
  );
});

Deno.test("signPush: agrees with a hand-computed sha1 of the sorted parts, in any order", () => {
  const parts = ["tok3n", "1700000000", "98765", "zz+/base64=="];
  const want = handSign(...parts);
  assert.equal(signPush(parts), want);
  assert.equal(signPush([...parts].reverse()), want);
  // Sorting is lexicographic, not numeric: the documentation's joined string puts the 10-digit
  // timestamp before the 9-digit nonce.
  const joined = createHash("sha1").update("1714037059486452656AAAAA").digest("hex");
  assert.equal(signPush(["AAAAA", "486452656", "1714037059"]), joined);
});

Deno.test("signatureMatches: exact, case-insensitive, and refuses near misses", () => {
  const parts = [DOC.token, DOC.verify.timestamp, DOC.verify.nonce];
  assert.equal(signatureMatches(DOC.verify.signature, parts), true);
  assert.equal(signatureMatches(DOC.verify.signature.toUpperCase(), parts), true);
  const flipped = DOC.verify.signature.slice(0, -1) + "7";
  assert.equal(signatureMatches(flipped, parts), false);
  assert.equal(signatureMatches(DOC.verify.signature.slice(0, 39), parts), false);
  assert.equal(signatureMatches("", parts), false);
  assert.equal(
    signatureMatches(DOC.verify.signature, [DOC.token, DOC.verify.timestamp, "1"]),
    false,
  );
});

Deno.test("checkTimestamp: inside the window both ways; stale, future and junk refused", () => {
  const now = 1_714_036_504_000;
  assert.equal(checkTimestamp("1714036504", now, 300), 1714036504);
  assert.equal(checkTimestamp(String(1714036504 - 300), now, 300), 1714036504 - 300);
  assert.equal(checkTimestamp(String(1714036504 + 300), now, 300), 1714036504 + 300);
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof PushError);
      return err.code;
    }
    return "accepted";
  };
  assert.equal(code(() => checkTimestamp(String(1714036504 - 301), now, 300)), "stale_timestamp");
  assert.equal(code(() => checkTimestamp(String(1714036504 + 301), now, 300)), "stale_timestamp");
  for (const junk of ["", "17140365O4", "-1714036504", "1e9", " 1714036504", "9".repeat(13)]) {
    assert.equal(code(() => checkTimestamp(junk, now, 300)), "malformed", junk);
  }
});
