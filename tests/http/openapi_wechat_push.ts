/**
 * The OpenAPI contract test's replay of WeChat's event push examples. WeChat signs each push
 * with a fresh timestamp and nonce, and the service refuses a stale or replayed one, so an
 * example cannot be sent byte for byte: its event is decrypted with the description's example
 * EncodingAESKey, and the same event is signed and encrypted again, as WeChat would, with the
 * test service's Token, key and appid, a fresh timestamp and the live openId, in the example's
 * format (JSON or XML).
 *
 * @module
 */
import { EXAMPLE_PUSH_SETTINGS } from "../../src/http/schemas/wechat_events.ts";
import { PushCipher } from "../../src/wechat/event_push/cipher.ts";
import { parsePush, readEncrypt } from "../../src/wechat/event_push/parse.ts";
import type { BodyFormat } from "../../src/wechat/event_push/parse.ts";
import { signedPush, type SimEvent, verificationQuery } from "../../tools/wechat_sim_events.ts";
import { PUSH, PUSH_ENV } from "../subscribe/rig.ts";
import type { Rig } from "./login_helpers.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The service's environment for the walk: WeChat's event push configured (safe mode, JSON). */
export const WALK_PUSH_ENV = PUSH_ENV;

/** The operations of the push URL, which WeChat calls (no token; a signature instead). */
export const PUSH_OPERATIONS = ["wechatUrlCheck", "wechatEvent"];

/** The body format of a request media type. */
export function formatOf(type: string): BodyFormat {
  return type === "text/xml" ? "xml" : "json";
}

/**
 * Each example of a push operation as `[media type, body]`; the URL check's one request has
 * neither.
 */
export function pushExamples(op: Json): [string, string | undefined][] {
  const content = Object.entries<Json>(op.requestBody?.content ?? {});
  if (content.length === 0) return [["", undefined]];
  return content.flatMap(([type, media]) =>
    Object.values<Json>(media.examples).map((e): [string, string] => [
      type,
      typeof e.value === "string" ? e.value : JSON.stringify(e.value),
    ])
  );
}

/**
 * The event an example push carries, decrypted with the example key (as WeChat's console would
 * have it for the example's appid).
 *
 * @example
 * ```ts
 * exampleEvent('{"ToUserName":"gh_...","Encrypt":"..."}').event; // "subscribe_msg_popup_event"
 * ```
 */
export function exampleEvent(body: string): { event: SimEvent; toUserName: string } {
  const cipher = new PushCipher(EXAMPLE_PUSH_SETTINGS.encodingAESKey, EXAMPLE_PUSH_SETTINGS.appid);
  const message = parsePush(cipher.decrypt(readEncrypt(body)));
  if (message.event === "other") throw new Error(`the example is not a subscribe event: ${body}`);
  return { event: message as SimEvent, toUserName: message.toUserName };
}

/**
 * Sends one example of a push operation to `rig` (configured with {@link WALK_PUSH_ENV} and the
 * example's format), as WeChat would send it now.
 */
export async function replayPush(
  op: Json,
  type: string,
  body: string | undefined,
  rig: Rig,
  openId: string,
): Promise<{ res: Response; text: string }> {
  const url = `${rig.svc.url}/v1/wechat/events`;
  let res: Response;
  if (body === undefined) {
    const echostr = op.parameters.find((p: Json) => p.name === "echostr").example;
    res = await fetch(`${url}?${verificationQuery(PUSH.token, { echostr })}`);
  } else {
    const { event, toUserName } = exampleEvent(body);
    const settings = { ...PUSH, appid: rig.sim.state.appid, format: formatOf(type) };
    const push = signedPush(event, { openId, toUserName }, settings);
    res = await fetch(`${url}?${push.query}`, {
      method: "POST",
      headers: { "content-type": type },
      body: push.body,
    });
  }
  return { res, text: await res.text() };
}
