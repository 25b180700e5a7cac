/**
 * The simulator's event pusher on the command line: posts one subscribe-message push (popup,
 * change or sent event, in XML or JSON, in the plain, compatible or safe mode, signed and
 * encrypted as WeChat does) to a push URL, with WeChat's retries and duplicates on demand. The
 * pusher itself is src/dev/wechat_sim/event_pusher.ts (the simulator pushes through it); this
 * module re-exports it.
 *
 * ```
 * deno run -A tools/wechat_sim_events.ts --url http://localhost:8080/wechat/events \
 *   --event popup --openid o_user --item TPL_SUB:accept --item TPL_X:reject \
 *   --format xml --mode safe --appid wx_sim_appid
 * ```
 * Token and EncodingAESKey come from `--token` / `--aes-key` or WECHAT_PUSH_TOKEN /
 * WECHAT_PUSH_AES_KEY; they are never printed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  postPush,
  signedPush,
  type SimEvent,
  type SimPush,
  verificationQuery,
} from "../src/dev/wechat_sim/event_pusher.ts";
import type { SUBSCRIBE_EVENTS } from "../src/wechat/event_push/events.ts";
import type { PushMode } from "../src/wechat/event_push/open.ts";
import type { BodyFormat } from "../src/wechat/event_push/parse.ts";

export {
  answeredSuccess,
  eventBody,
  type PostAttempt,
  type PostOptions,
  postPush,
  signedPush,
  type SimEvent,
  type SimEventHeader,
  type SimPush,
  type SimPushFixed,
  type SimPushSettings,
  verificationQuery,
} from "../src/dev/wechat_sim/event_pusher.ts";

type EventName = (typeof SUBSCRIBE_EVENTS)[number];

const USAGE = `usage: deno run -A tools/wechat_sim_events.ts --url <push URL> [options]
  --event popup|change|sent   the event (default popup)
  --openid <id>               FromUserName (default o_sim_user)
  --to <gh_id>                ToUserName (default gh_sim_original)
  --item <spec>               repeatable; popup: TPL:accept[:scene], change: TPL:reject,
                              sent: TPL:msgid:errcode[:errstatus]
  --format json|xml           body format (default json)
  --mode plain|compatible|safe  encryption mode (default safe)
  --appid <appid>             default wx_sim_appid
  --token <t> / --aes-key <k> or WECHAT_PUSH_TOKEN / WECHAT_PUSH_AES_KEY
  --retries <n> --duplicates <n> --delay-ms <n>
  --verify                    send WeChat's URL check (GET) instead of an event
  --print                     print the request instead of sending it`;

const EVENTS: Record<string, EventName> = {
  popup: "subscribe_msg_popup_event",
  change: "subscribe_msg_change_event",
  sent: "subscribe_msg_sent_event",
};

/**
 * The CLI's `--item` specs as an event.
 *
 * @example
 * ```ts
 * eventFromSpecs("popup", ["TPL_SUB:accept", "TPL_X:reject"]);
 * eventFromSpecs("sent", ["TPL_SUB:1700827132819554304:0"]);
 * ```
 */
export function eventFromSpecs(kind: string, specs: string[]): SimEvent {
  const event = EVENTS[kind];
  if (!event) throw new Error(`--event must be popup, change or sent, not "${kind}"`);
  if (specs.length === 0) throw new Error("give at least one --item");
  const parts = specs.map((s) => s.split(":"));
  if (event === "subscribe_msg_sent_event") {
    return {
      event,
      items: parts.map(([templateId, msgId = "1", code = "0", status]) => ({
        templateId,
        msgId,
        errorCode: Number(code),
        errorStatus: status ?? (code === "0" ? "success" : "fail"),
      })),
    };
  }
  if (event === "subscribe_msg_change_event") {
    return {
      event,
      items: parts.map(([templateId, status = "reject"]) => ({ templateId, status })),
    };
  }
  return {
    event,
    items: parts.map(([templateId, status = "accept", popupScene = "0"]) => ({
      templateId,
      status,
      popupScene,
    })),
  };
}

/**
 * Runs the CLI; returns the exit code (0 delivered, 1 not delivered, 2 usage error).
 *
 * @example
 * ```ts
 * await main(["--url", url, "--token", token, "--mode", "plain", "--item", "TPL_SUB:accept"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        url: { type: "string" },
        event: { type: "string", default: "popup" },
        openid: { type: "string", default: "o_sim_user" },
        to: { type: "string" },
        item: { type: "string", multiple: true, default: [] },
        format: { type: "string", default: "json" },
        mode: { type: "string", default: "safe" },
        appid: { type: "string", default: "wx_sim_appid" },
        token: { type: "string" },
        "aes-key": { type: "string" },
        retries: { type: "string", default: "0" },
        duplicates: { type: "string", default: "0" },
        "delay-ms": { type: "string", default: "0" },
        verify: { type: "boolean", default: false },
        print: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const token = values.token ?? Deno.env.get("WECHAT_PUSH_TOKEN");
  if (!values.url || !token) {
    console.error(`--url and a token are required\n${USAGE}`);
    return 2;
  }
  if (values.verify) {
    const res = await fetch(`${values.url}?${verificationQuery(token)}`);
    console.log(`URL check: HTTP ${res.status}, ${(await res.text()).slice(0, 200)}`);
    return res.ok ? 0 : 1;
  }
  let push: SimPush;
  try {
    if (!["json", "xml"].includes(values.format!)) throw new Error("--format must be json or xml");
    if (!["plain", "compatible", "safe"].includes(values.mode!)) {
      throw new Error("--mode must be plain, compatible or safe");
    }
    push = signedPush(
      eventFromSpecs(values.event!, values.item as string[]),
      { openId: values.openid!, toUserName: values.to },
      {
        token,
        appid: values.appid!,
        mode: values.mode as PushMode,
        format: values.format as BodyFormat,
        encodingAESKey: values["aes-key"] ?? Deno.env.get("WECHAT_PUSH_AES_KEY"),
      },
    );
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.print) {
    console.log(
      `POST ${values.url}?${push.query}\ncontent-type: ${push.contentType}\n\n${push.body}`,
    );
    return 0;
  }
  const attempts = await postPush(values.url, push, {
    retries: Number(values.retries),
    duplicates: Number(values.duplicates),
    delayMs: Number(values["delay-ms"]),
  });
  for (const [i, a] of attempts.entries()) {
    const answer = a.status === null ? `no answer (${a.error})` : `HTTP ${a.status}`;
    console.log(`attempt ${i + 1}: ${answer} ${a.body.slice(0, 200)}`);
  }
  return attempts.some((a) => a.status !== null && a.status < 300) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
