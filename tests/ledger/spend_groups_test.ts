/**
 * Spend groups, duplicates and caps: pure rules, no store.
 */
import assert from "node:assert/strict";
import { capRefusal, DEFAULT_CREDIT_CAPS } from "../../src/ledger/credit_caps.ts";
import { type Credit, pickCredit } from "../../src/ledger/credit_rules.ts";
import {
  isDuplicate,
  LEGACY_GROUP,
  spendGroupOf,
  spendGroupsOf,
} from "../../src/ledger/spend_groups.ts";

const NOW = Date.UTC(2026, 10, 25, 12);
const credit = (kind: Credit["kind"], templateId?: string): Credit => ({
  formId: `${kind}-${templateId ?? ""}`,
  kind,
  ...(templateId !== undefined ? { templateId } : {}),
  uses: 1,
  expiresAt: null,
});

Deno.test("spendGroupOf: form and prepay share one group; subscribe has one per template", () => {
  assert.equal(spendGroupOf(credit("form")), LEGACY_GROUP);
  assert.equal(spendGroupOf(credit("prepay")), LEGACY_GROUP);
  assert.equal(spendGroupOf(credit("subscribe", "A")), "t:A");
  assert.equal(spendGroupOf(credit("subscribe", "constructor")), "t:constructor");
});

Deno.test("spendGroupsOf: given a filter, the groups holding exactly the credits it allows", () => {
  assert.deepEqual(spendGroupsOf({}), [{ group: "fp", kinds: null }]);
  assert.deepEqual(spendGroupsOf({ templateId: "T" }), [
    { group: "fp", kinds: null },
    { group: "t:T", kinds: null },
  ]);
  assert.deepEqual(spendGroupsOf({ templateId: "T", kinds: ["subscribe"] }), [
    { group: "t:T", kinds: null },
  ]);
  assert.deepEqual(spendGroupsOf({ kinds: ["prepay"] }), [{ group: "fp", kinds: ["prepay"] }]);
});

Deno.test("spendGroupsOf: a credit matches a filter exactly when its group is one of the filter's", () => {
  const credits = [
    credit("form"),
    credit("prepay"),
    credit("subscribe", "A"),
    credit("subscribe", "B"),
  ];
  const filters = [
    {},
    { templateId: "A" },
    { templateId: "B", kinds: ["subscribe" as const] },
    { templateId: "A", kinds: ["form" as const, "prepay" as const] },
    { kinds: ["form" as const] },
  ];
  for (const filter of filters) {
    for (const c of credits) {
      const choice = spendGroupsOf(filter).find((g) => g.group === spendGroupOf(c));
      const inGroups = choice !== undefined &&
        (choice.kinds === null || choice.kinds.includes(c.kind));
      const picked = pickCredit([c], filter, NOW).credit !== null;
      assert.equal(inGroups, picked, `${c.formId} for ${JSON.stringify(filter)}`);
    }
  }
});

Deno.test("isDuplicate: a held formId is a duplicate until it expires, spent or not", () => {
  const held = { ...credit("form"), expiresAt: NOW + 1 };
  assert.equal(isDuplicate(held, NOW), true);
  assert.equal(isDuplicate({ ...held, uses: 0 }, NOW), true);
  assert.equal(isDuplicate(held, NOW + 1), false, "expired at its expiry");
  assert.equal(isDuplicate(undefined, NOW), false);
});

Deno.test("capRefusal: the user's cap first, then a subscribe credit's template cap", () => {
  const caps = { perUser: 3, perTemplate: 1 };
  assert.equal(capRefusal(credit("form"), { user: 2, template: 5 }, caps), null);
  assert.equal(capRefusal(credit("form"), { user: 3, template: 0 }, caps), "user_full");
  assert.equal(
    capRefusal(credit("subscribe", "A"), { user: 2, template: 1 }, caps),
    "template_full",
  );
  assert.equal(capRefusal(credit("subscribe", "A"), { user: 3, template: 1 }, caps), "user_full");
  assert.equal(capRefusal(credit("subscribe", "A"), { user: 0, template: 0 }, caps), null);
  assert.deepEqual(DEFAULT_CREDIT_CAPS, { perUser: 500, perTemplate: 100 });
});
