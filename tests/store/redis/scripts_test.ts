/**
 * The constants the Lua scripts share with TypeScript are handed over, not copied: each script
 * starts with the generated block of its owner's constants, real Lua (in a real Redis) reads
 * back exactly the TypeScript values, and no .lua file holds a copy of one.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import {
  BROADCAST_STATE_TTL_MS,
  LOST_DELIVERY,
  STATE_LETTER,
} from "../../../src/ledger/delivery.ts";
import { COLLECT_LUA } from "../../../src/store/redis/collect.ts";
import { RECORD_LUA } from "../../../src/store/redis/record.ts";
import { TAKE_CONSTANTS, TAKE_LUA } from "../../../src/store/redis/take.ts";
import { BROADCAST_STATE_CONSTANTS } from "../../../src/store/redis/broadcast_state.ts";
import { LIB_CONSTANTS } from "../../../src/store/redis/log_writer.ts";
import { SEAL_LUA } from "../../../src/store/redis/sealer.ts";
import { NO_EXPIRY_SCORE } from "../../../src/store/redis/credit_value.ts";
import { FIELD_SEPARATOR } from "../../../src/store/redis/entry.ts";
import { STORED_HASH_LENGTH } from "../../../src/store/redis/stored_hash.ts";
import { ledgerKeys } from "../../../src/store/redis/keys.ts";
import { createRedisStore } from "../../../src/store/redis/redis.ts";
import { type LuaConstants, luaConstants } from "../../../src/store/redis/scripts.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";

const WRITING = { ...LIB_CONSTANTS };
const SCRIPTS: [string, string, LuaConstants][] = [
  ["collect", COLLECT_LUA, WRITING],
  ["take", TAKE_LUA, { ...WRITING, ...TAKE_CONSTANTS }],
  ["record", RECORD_LUA, { ...WRITING, ...BROADCAST_STATE_CONSTANTS }],
  ["seal", SEAL_LUA, { STORED_HASH_LENGTH }],
];

/** Each constant as `NAME[.key]=s:<text>` or `=n:<integer>`, in the order given. */
function expected(constants: LuaConstants): string[] {
  const show = (v: string | number) => typeof v === "number" ? `n:${v}` : `s:${v}`;
  return Object.entries(constants).flatMap(([name, value]) =>
    typeof value === "object"
      ? Object.entries(value).map(([key, v]) => `${name}.${key}=${show(v)}`)
      : [`${name}=${show(value)}`]
  );
}

/** Lua that returns what it sees of each constant, in the form of {@link expected}. */
function probe(constants: LuaConstants): string {
  const lines = [
    "local out = {}",
    "local function show(v) if type(v) == 'number' then return 'n:' .. string.format('%.0f', v) end return 's:' .. v end",
  ];
  for (const [name, value] of Object.entries(constants)) {
    const paths = typeof value === "object"
      ? Object.keys(value).map((k) => `${name}.${k}`)
      : [name];
    for (const path of paths) lines.push(`out[#out + 1] = '${path}=' .. show(${path})`);
  }
  return `${lines.join("\n")}\nreturn out`;
}

Deno.test("scripts: each script starts with its owner's constants, and real Lua reads the TypeScript values", async () => {
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  for (const [name, source, constants] of SCRIPTS) {
    const block = luaConstants(constants);
    assert.ok(source.startsWith(block), `${name}.lua starts with its constants`);
    const seen = await raw.eval(block + probe(constants), [], []) as string[];
    assert.deepEqual(seen, expected(constants), `${name}.lua sees the TypeScript values`);
  }
  // The values that matter most, spelled out: a change on the TS side reaches the Lua.
  const take = expected({ ...WRITING, ...TAKE_CONSTANTS });
  for (
    const line of [
      `NO_EXPIRY_SCORE=n:${NO_EXPIRY_SCORE}`,
      `LOST_ERRCODE=n:${LOST_DELIVERY.errcode}`,
      `LOST_ERRMSG=s:${LOST_DELIVERY.errmsg}`,
      `STATE_LETTER.retry=s:${STATE_LETTER.retry}`,
      `BROADCAST_STATE_TTL_MS=n:${BROADCAST_STATE_TTL_MS}`,
      `FIELD_SEPARATOR=s:${FIELD_SEPARATOR}`,
      "KIND_LETTER.subscribe=s:s",
    ]
  ) assert.ok(take.includes(line), line);
});

Deno.test("luaConstants: any text survives as a Lua string; a bad name or an unsafe number is refused", async () => {
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  const text = 'quote " backslash \\ newline \n DEL \x7f nul \x00 é 微信 ]] --';
  const seen = await raw.eval(`${luaConstants({ TEXT: text })}return TEXT`, [], []);
  assert.equal(seen, text);
  assert.throws(() => luaConstants({ "not-a-name": 1 }), SyntaxError);
  assert.throws(() => luaConstants({ T: { "end key": "x" } }), SyntaxError);
  assert.throws(() => luaConstants({ BIG: 2 ** 60 }), RangeError);
  assert.throws(() => luaConstants({ HALF: 0.5 }), RangeError);
  assert.equal(luaConstants({}), "");
});

Deno.test("scripts: no .lua file holds a copy of a constant TypeScript hands over", () => {
  const dir = new URL("../../../src/store/redis/lua/", import.meta.url);
  const copies = [
    String(NO_EXPIRY_SCORE),
    String(LOST_DELIVERY.errcode),
    String(-LOST_DELIVERY.errcode),
    String(BROADCAST_STATE_TTL_MS),
    String(STORED_HASH_LENGTH),
    "\\127",
    "'t|'",
    "'|'",
    "'r'",
    "'u'",
    "'s'",
  ];
  for (const file of Deno.readDirSync(dir)) {
    const text = Deno.readTextFileSync(new URL(file.name, dir));
    for (const copy of copies) assert.ok(!text.includes(copy), `${file.name} holds ${copy}`);
  }
});

Deno.test("scripts: a broadcast's state and tally live BROADCAST_STATE_TTL_MS after a write", async () => {
  const prefix = uniquePrefix("ttl");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 100 });
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  const now = Date.UTC(2026, 10, 25);
  await store.collect("u1", [{ formId: "f1", kind: "form", uses: 1, expiresAt: null }], now);
  const [taken] = await store.takeMany(
    { broadcastId: "b1", deliveries: [{ openId: "u1", pushId: "p1" }] },
    now,
  );
  assert.equal(taken.status, "taken");
  await store.recordMany("b1", [{
    openId: "u1",
    pushId: "p1",
    credit: taken.status === "taken" ? taken.credit : null,
    release: false,
    events: [],
    state: "sent",
  }], now);
  const keys = ledgerKeys(prefix);
  for (const key of [keys.broadcastState("b1"), keys.broadcastTally("b1")]) {
    const ttl = await raw.pttl(key);
    assert.ok(
      ttl > BROADCAST_STATE_TTL_MS - 60_000 && ttl <= BROADCAST_STATE_TTL_MS,
      `${key}: ${ttl}`,
    );
  }
});
