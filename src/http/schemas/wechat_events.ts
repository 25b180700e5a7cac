/**
 * `GET|POST /v1/wechat/events`: WeChat's message push (消息推送), described for completeness:
 * WeChat calls this URL, your backend does not. The request is WeChat's (query signature
 * parameters, a JSON or XML body, encrypted in the safe and compatible modes); the route checks
 * it by hand (src/wechat/event_push/: signature in constant time, timestamp window, decryption,
 * appid, replay guard), which no schema can say, so the body schema only names its fields.
 *
 * The examples are real: made with the example Token, EncodingAESKey and appid below (the
 * console's values are secrets; these are not anyone's), so the contract test decrypts them and
 * replays their events, re-signed with a fresh timestamp, against the running service.
 *
 * @module
 */
import { resolver } from "hono-openapi";
import { z } from "zod";
import { describe, EXAMPLE_OPEN_ID, EXAMPLE_TEMPLATE_ID, SECURITY } from "./common.ts";
import { ANY_ROUTE, errorAnswers, refusals, STORE } from "./errors.ts";

/** The made-up console settings the examples are signed and encrypted with. */
export const EXAMPLE_PUSH_SETTINGS = {
  token: "Tok3nFromConsole",
  encodingAESKey: "kQ7rT2vX9mB4nL8pW3sD6fH1jG5cZ0yA2eU4iO7tR9x",
  appid: "wx8f3c6a2d5b1e7094",
} as const;

const TIMESTAMP = "1795170600";
const NONCE = "1320562132";
const TO_USER = "gh_3a9c7e21b5d4";

/** The example event in clear: `EXAMPLE_OPEN_ID` accepted `TPL_ORDER` in the dialog (JSON). */
const PLAIN_JSON = JSON.stringify({
  ToUserName: TO_USER,
  FromUserName: EXAMPLE_OPEN_ID,
  CreateTime: Number(TIMESTAMP),
  MsgType: "event",
  Event: "subscribe_msg_popup_event",
  List: { TemplateId: EXAMPLE_TEMPLATE_ID, SubscribeStatusString: "accept", PopupScene: "0" },
});
const cdata = (name: string, value: string) => `<${name}><![CDATA[${value}]]></${name}>`;
const PLAIN_XML = "<xml>" + cdata("ToUserName", TO_USER) + cdata("FromUserName", EXAMPLE_OPEN_ID) +
  `<CreateTime>${TIMESTAMP}</CreateTime>` + cdata("MsgType", "event") +
  cdata("Event", "subscribe_msg_popup_event") + "<SubscribeMsgPopupEvent><List>" +
  cdata("TemplateId", EXAMPLE_TEMPLATE_ID) + cdata("SubscribeStatusString", "accept") +
  "<PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>";

/** `Encrypt` of the JSON example: {@link PLAIN_JSON} in WeChat's AES-256-CBC envelope. */
const ENCRYPT_JSON =
  "OSAul4MHc7FY0YURI+Ngtr2hAMMqI9ZOLPd2Dtw2p2250hpx24J8/MXl74cysv8FeyUQAMH3v3SP" +
  "8Ww4mzM6e3RRHsFr6aEx1d7z+0Xhwx47bev9W3pKtwrhJ7IlJ4tLsFwmMK0Mp5J/OPxWdGe55rVoYpJvF9Gy89O+9lqP" +
  "f+e8VsoFqUkmAmw7tAG9phmov8gJrJ5eW60AGnpndjLJ9DCPPkvCVYxHqvBr/GjzYpAk2Y9uVC8dPuqB+1/N4xYH75VE" +
  "NJS7YBvMFhW4vjuTTeNR60pVRSR7PRbGAdggFECyJWF0fJHofsyT+7Z4lfN1rosJjeKbYXCxqacdlHfgEZ3VzJk07lmg" +
  "CbEek8blKmrx9WI6039BQKULjdUpcGZ1";
/** `Encrypt` of the XML example: {@link PLAIN_XML}, likewise. */
const ENCRYPT_XML = "OSAul4MHc7FY0YURI+NgtrMx8GQuRvSZ/CJLul6oo/2Em2JL3nUqPLIj3IAJmr4pcdntGfsHOA+3" +
  "3787OfmdN0l/2XONzbMyn8bd20Hw/berwUxLh9WBuqPtHFmRMJ/1U2iyJgne2nCPMLiUXzx+XIF0dpajt7jYEu5AGeWJ" +
  "V4a4Ww766zWjnBoiyiytkVOAisyXOMIVECzTLsUkMdmYV7CJWAeyd30YB5B511rw7GlLOI12iKNRVoNDvw70z/719dh+" +
  "t8iDEba3mG4y8VA25NxVHefDmyzRbkKwZ/coj+SJ5OJU0BDQ1LBFWHR8aLs7Fx8Ovl11VSIv5rXklxCAElPTQjnC5V9n" +
  "XBw7vUC7gMrB3T5EVrhDyE/28p2MHmTrL779Rlr4iu2xa/izYU1aUZ7qxKCeSMkAQQh/L9/qX7Bsyk5mQxbA4XykHsXX" +
  "f2Cd2KIG7OkVBqa5+3K/l75Uh9k62kF8m+A/7eMuesgDCTZqkSMoRk7pkjp+wcllh6syQjKBy5NUUsbyK/62lhtwewtk" +
  "GFFYw5slvZlwV1/pngHwNlqxzcKfRHTDZVYZC7tyhy72cWTmgmtB6m0VmqR94tkxYgLR5K+mYGh4Me4TKjSaXp/Io1ZH" +
  "RUJFgoz7zZn+z0x5jlNL22tTkJj5eHDsyArLxFY3cu2gdLXX4lvjaEw=";

/** `signature`: SHA-1 of the sorted Token, timestamp and nonce, hex. */
const SIGNATURE = "175b00c2507af644f9b01baf5f811bec66f2d5d1";

/**
 * A push's body in the JSON format: the event itself (plain mode), `ToUserName` and `Encrypt`
 * (safe mode), or both (compatible mode). WeChat's fields; only `Encrypt` counts when present.
 *
 * @example
 * ```ts
 * PushEnvelope.parse({ ToUserName: "gh_3a9c7e21b5d4", Encrypt: "OSAul4..." });
 * ```
 */
export const PushEnvelope = z.looseObject({
  ToUserName: z.string().describe("The mini-program's original id (`gh_...`)"),
  Encrypt: z.string().optional().describe(
    "Safe and compatible modes: the event, AES-256-CBC with the EncodingAESKey, base64",
  ),
  FromUserName: z.string().optional().describe("Plain mode: the user's openid"),
  CreateTime: z.union([z.int(), z.string()]).optional(),
  MsgType: z.string().optional(),
  Event: z.string().optional().describe(
    "`subscribe_msg_popup_event`, `subscribe_msg_change_event` or `subscribe_msg_sent_event`; " +
      "other pushes are answered `success` and ignored",
  ),
  List: z.unknown().optional().describe("The templates: an object for one, an array for more"),
});

function query(name: string, description: string, example: string, required = true) {
  return { in: "query", name, required, description, schema: { type: "string" }, example };
}

const SIGNED = [
  query("signature", "SHA-1 of the sorted Token, `timestamp` and `nonce`, hex", SIGNATURE),
  query("timestamp", "Epoch seconds; more than 5 minutes from now is refused", TIMESTAMP),
  query("nonce", "WeChat's random number", NONCE),
];

const PUSH_NOT_SET = "Needs `WECHAT_PUSH_TOKEN` and `WECHAT_APPID` (with `WECHAT_PUSH_AES_KEY` " +
  "in the safe and compatible modes), as set in the mini-program's admin console; else `503 " +
  "not_configured`.";

/** Refusals of a request to the push URL (routes/wechat_events.ts). */
const PUSH_URL = refusals(ANY_ROUTE, STORE, {
  400: ["malformed"],
  401: ["bad_signature", "stale_timestamp"],
  409: ["replayed"],
  503: ["not_configured"],
});

const TEXT = (example: string) => ({ "text/plain": { schema: { type: "string" }, example } });

/**
 * `GET /v1/wechat/events`: WeChat's URL check.
 *
 * @example
 * ```ts
 * app.get("/v1/wechat/events", describeUrlCheck, handler);
 * ```
 */
export const describeUrlCheck = describe({
  operationId: "wechatUrlCheck",
  tags: ["Credits in"],
  summary: "WeChat's check of the push URL (called by WeChat)",
  description: "When the URL is saved in the admin console, WeChat sends `echostr` signed " +
    "with the Token; the answer is `echostr` itself. " + PUSH_NOT_SET,
  security: SECURITY.none,
  parameters: [...SIGNED, query("echostr", "A random string to answer", "7413291542168303475")],
  responses: {
    200: { description: "`echostr`, as WeChat asks", content: TEXT("7413291542168303475") },
    ...errorAnswers(PUSH_URL),
  },
});

/**
 * `POST /v1/wechat/events`: one of WeChat's pushes.
 *
 * @example
 * ```ts
 * app.post("/v1/wechat/events", describeEventPush, handler);
 * ```
 */
export const describeEventPush = describe({
  operationId: "wechatEvent",
  tags: ["Credits in"],
  summary: "WeChat's event push: subscribe answers and send outcomes (called by WeChat)",
  description: "WeChat posts the subscribe events here (`subscribe_msg_popup_event`: the " +
    "user's answers in the dialog; `subscribe_msg_change_event`: a change in the settings; " +
    "`subscribe_msg_sent_event`: a send's final outcome). The push is verified (the " +
    "signature, in constant time; a timestamp within 5 minutes; decrypted, it must name " +
    "`WECHAT_APPID`; a push received already is `409 replayed`), applied to the ledger in one " +
    "store call, and answered `success` (WeChat retries anything else). The body is in the " +
    "format chosen in the console (`WECHAT_PUSH_FORMAT`, JSON by default; the other format is " +
    "`400 malformed`) and the mode chosen there (`WECHAT_PUSH_MODE`: `plain` signs only the " +
    "query with `signature`; `compatible` and `safe` add `encrypt_type=aes` and " +
    "`msg_signature`, which covers `Encrypt`). At most 64 KB. " + PUSH_NOT_SET,
  security: SECURITY.none,
  parameters: [
    ...SIGNED,
    query("openid", "Safe and compatible modes: the user's openid", EXAMPLE_OPEN_ID, false),
    {
      ...query("encrypt_type", "Safe and compatible modes: `aes`", "aes", false),
      schema: { type: "string", enum: ["aes"] },
    },
    query(
      "msg_signature",
      "Safe and compatible modes: SHA-1 of the sorted Token, `timestamp`, `nonce` and `Encrypt`",
      "b20f8266cb7ba042d5e7797a62831df2268aae50",
      false,
    ),
  ],
  requestBody: {
    required: true,
    content: {
      "application/json": {
        schema: resolver(PushEnvelope),
        examples: {
          safe: {
            summary: "A popup event, safe mode (the query's example signs this body)",
            description: `\`Encrypt\` holds: \`${PLAIN_JSON}\``,
            value: { ToUserName: TO_USER, Encrypt: ENCRYPT_JSON },
          },
        },
      },
      "text/xml": {
        schema: { type: "string", description: "The same fields as XML, under `<xml>`" },
        examples: {
          safe: {
            summary: "A popup event, safe mode, XML (`msg_signature=" +
              "15d9910cefe59618876abb0eca54aa24c68ccd64`)",
            description: `\`Encrypt\` holds: \`${PLAIN_XML}\``,
            value: `<xml>${cdata("ToUserName", TO_USER)}${cdata("Encrypt", ENCRYPT_XML)}</xml>`,
          },
        },
      },
    },
  },
  responses: {
    200: { description: "Applied (or not a subscribe event): `success`", content: TEXT("success") },
    ...errorAnswers(refusals(PUSH_URL, {
      400: ["aborted"],
      403: ["wrong_appid"],
      408: ["request_timeout"],
      413: ["payload_too_large"],
    })),
  },
});
