/**
 * Push bodies: WeChat's documented examples in XML and JSON, List as one item or several, the
 * other events kept, and every malformed body refused with a clear message.
 */
import assert from "node:assert/strict";
import { PushError } from "../../../src/wechat/event_push/errors.ts";
import { isAcceptance } from "../../../src/wechat/event_push/events.ts";
import { parsePush, readEncrypt } from "../../../src/wechat/event_push/parse.ts";

// The mini-program subscribe-message documentation's examples, as printed there.
const POPUP_XML = `<xml>
    <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
    <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
    <CreateTime>1610969440</CreateTime>
    <MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_popup_event]]></Event>
    <SubscribeMsgPopupEvent>
        <List>
            <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
            <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
            <PopupScene>2</PopupScene>
        </List>
        <List>
            <TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId>
            <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
            <PopupScene>2</PopupScene>
        </List>
    </SubscribeMsgPopupEvent>
</xml>`;
const CHANGE_XML = `<xml>
    <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
    <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
    <CreateTime>1610969440</CreateTime>
    <MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_change_event]]></Event>
    <SubscribeMsgChangeEvent>
        <List>          <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
            <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
        </List>
    </SubscribeMsgChangeEvent>
</xml>`;
const SENT_XML = `<xml>
    <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
    <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
    <CreateTime>1610969468</CreateTime>
    <MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_sent_event]]></Event>
    <SubscribeMsgSentEvent>
        <List>       <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
            <MsgID>1700827132819554304</MsgID>
            <ErrorCode>0</ErrorCode>
            <ErrorStatus><![CDATA[success]]></ErrorStatus>
        </List>
    </SubscribeMsgSentEvent>
</xml>`;
const POPUP_JSON = `{
  "ToUserName": "gh_123456789abc",
  "FromUserName": "o7esq5OI1Uej6Xixw1lA2H7XDVbc",
  "CreateTime": "1620973045",
  "MsgType": "event",
  "Event": "subscribe_msg_popup_event",
  "List": [   {
        "TemplateId": "hD-ixGOhYmUfjOnI8MCzQMPshzGVeux_2vzyvQu7O68",
        "SubscribeStatusString": "accept",
        "PopupScene": "0"
    }]
 }`;
const SENT_JSON = `{
    "ToUserName": "gh_123456789abc",
    "FromUserName": "o7esq5PHRGBQYmeNyfG064wEFVpQ",
    "CreateTime": "1620963428",
    "MsgType": "event",
    "Event": "subscribe_msg_sent_event",
    "List": {
        "TemplateId": "BEwX0BO-T3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8",
        "MsgID": "1864323726461255680",
        "ErrorCode": "0",
        "ErrorStatus": "success"
      }
}`;

function malformed(body: string): string {
  try {
    parsePush(body);
  } catch (err) {
    assert.ok(err instanceof PushError, String(err));
    assert.equal(err.code, "malformed");
    return err.message;
  }
  throw new Error(`accepted: ${body.slice(0, 80)}`);
}

Deno.test("XML popup with two <List>: both templates, in order, with scene", () => {
  assert.deepEqual(parsePush(POPUP_XML), {
    toUserName: "gh_123456789abc",
    openId: "otFpruAK8D-E6EfStSYonYSBZ8_4",
    createTime: 1610969440,
    msgType: "event",
    event: "subscribe_msg_popup_event",
    items: [
      {
        templateId: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc",
        status: "accept",
        popupScene: "2",
      },
      {
        templateId: "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI",
        status: "reject",
        popupScene: "2",
      },
    ],
  });
});

Deno.test("XML change and sent with one <List>: a one-item list; MsgID kept exact", () => {
  const change = parsePush(CHANGE_XML);
  assert.equal(change.event, "subscribe_msg_change_event");
  assert.deepEqual(change.event === "subscribe_msg_change_event" && change.items, [
    { templateId: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc", status: "reject" },
  ]);
  const sent = parsePush(SENT_XML);
  assert.deepEqual(sent.event === "subscribe_msg_sent_event" && sent.items, [
    {
      templateId: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc",
      msgId: "1700827132819554304",
      errorCode: 0,
      errorStatus: "success",
    },
  ]);
});

Deno.test("JSON: List as an array, as a single object, CreateTime as string or number", () => {
  const popup = parsePush(POPUP_JSON);
  assert.equal(popup.event === "subscribe_msg_popup_event" && popup.createTime, 1620973045);
  assert.deepEqual(popup.event === "subscribe_msg_popup_event" && popup.items, [
    {
      templateId: "hD-ixGOhYmUfjOnI8MCzQMPshzGVeux_2vzyvQu7O68",
      status: "accept",
      popupScene: "0",
    },
  ]);
  const sent = parsePush(SENT_JSON);
  assert.deepEqual(sent.event === "subscribe_msg_sent_event" && sent.items, [
    {
      templateId: "BEwX0BO-T3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8",
      msgId: "1864323726461255680",
      errorCode: 0,
      errorStatus: "success",
    },
  ]);
  // What developers report receiving: a number, and one object for one template.
  const reported = parsePush(JSON.stringify({
    ToUserName: "gh_x",
    FromUserName: "o8dH44seYM3qeBzHlrmwI0sAtSfI",
    CreateTime: 1688953684,
    MsgType: "event",
    Event: "subscribe_msg_popup_event",
    List: { PopupScene: "0", SubscribeStatusString: "acceptWithAudio", TemplateId: "T1" },
  }));
  assert.equal(reported.event === "subscribe_msg_popup_event" && reported.createTime, 1688953684);
  assert.equal(reported.event === "subscribe_msg_popup_event" && reported.items.length, 1);
});

Deno.test("JSON with the XML nesting, and a change event under the popup wrapper, are read", () => {
  const base = {
    ToUserName: "gh_x",
    FromUserName: "o1",
    CreateTime: 1,
    MsgType: "event",
    Event: "subscribe_msg_change_event",
  };
  const items = [{ TemplateId: "A", SubscribeStatusString: "reject" }, {
    TemplateId: "B",
    SubscribeStatusString: "reject",
  }];
  for (
    const shape of [
      { SubscribeMsgChangeEvent: { List: items } },
      { SubscribeMsgChangeEvent: items },
      { SubscribeMsgPopupEvent: { List: items } },
    ]
  ) {
    const change = parsePush(JSON.stringify({ ...base, ...shape }));
    assert.deepEqual(
      change.event === "subscribe_msg_change_event" && change.items.map((i) => i.templateId),
      ["A", "B"],
      JSON.stringify(shape),
    );
  }
});

Deno.test("statuses: accept-like ones grant, unknown ones are kept as they came", () => {
  assert.deepEqual(
    ["accept", "acceptWithAudio", "acceptWithAlert", "reject", "ban", "filter", "newThing"].map(
      isAcceptance,
    ),
    [true, true, true, false, false, false, false],
  );
  const popup = parsePush(POPUP_JSON.replace('"accept"', '"someFutureStatus"'));
  assert.equal(
    popup.event === "subscribe_msg_popup_event" && popup.items[0].status,
    "someFutureStatus",
  );
});

Deno.test("other pushes are kept, not refused: debug_demo, a text message, a prototype name", () => {
  const demo = parsePush(
    '{"ToUserName":"gh_97417a04a28d","MsgType":"event","Event":"debug_demo","debug_str":"hi"}',
  );
  assert.deepEqual(demo, {
    event: "other",
    msgType: "event",
    name: "debug_demo",
    fields: {
      ToUserName: "gh_97417a04a28d",
      MsgType: "event",
      Event: "debug_demo",
      debug_str: "hi",
    },
  });
  const text = parsePush("<xml><MsgType><![CDATA[text]]></MsgType><Content>hi</Content></xml>");
  assert.deepEqual(text.event === "other" && [text.msgType, text.name], ["text", null]);
  const proto = parsePush('{"MsgType":"event","Event":"toString"}');
  assert.equal(proto.event, "other");
});

Deno.test("malformed XML: unclosed, two roots, other root, DOCTYPE and entity bombs", () => {
  assert.match(malformed("<xml><MsgType>event</xml>"), /well-formed/);
  assert.match(malformed("<xml><a>1</a></xml><xml><a>2</a></xml>"), /well-formed/);
  assert.match(malformed("<root><MsgType>event</MsgType></root>"), /<xml> root/);
  assert.match(malformed("<xml></xml>"), /<xml> root/);
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
    `<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
    `<xml><MsgType>&lol2;</MsgType></xml>`;
  assert.match(malformed(bomb), /DOCTYPE/);
  assert.match(malformed('<!DOCTYPE x SYSTEM "file:///etc/passwd"><xml><a>1</a></xml>'), /DOCTYPE/);
  assert.match(malformed("<xml><!-- hidden --><a>1</a></xml>"), /DOCTYPE/);
  assert.match(malformed("<xml><__proto__>1</__proto__></xml>"), /readable XML/);
  // Declarations inside CDATA are text, not declarations.
  assert.equal(
    parsePush("<xml><MsgType><![CDATA[<!DOCTYPE>]]></MsgType></xml>").event,
    "other",
  );
});

Deno.test("malformed JSON: not JSON, not an object, neither format", () => {
  assert.match(malformed('{"ToUserName": "gh_1",'), /not valid JSON/);
  assert.match(malformed("{}}"), /not valid JSON/);
  assert.match(malformed("[1,2]"), /neither JSON nor XML/);
  assert.match(malformed(""), /neither JSON nor XML/);
  assert.match(malformed("success"), /neither JSON nor XML/);
});

Deno.test("a subscribe event lacking a required field names the field, in both formats", () => {
  const full = JSON.parse(SENT_JSON);
  const drop = (name: string) => {
    const copy = structuredClone(full);
    if (name in copy) delete copy[name];
    else delete copy.List[name];
    return JSON.stringify(copy);
  };
  for (const name of ["ToUserName", "FromUserName", "CreateTime", "MsgType"]) {
    assert.match(malformed(drop(name)), new RegExp(name));
  }
  for (const name of ["TemplateId", "MsgID", "ErrorCode"]) {
    assert.match(malformed(drop(name)), new RegExp(`List\\.${name}`));
  }
  assert.match(malformed(JSON.stringify({ ...full, List: [] })), /no List/);
  assert.match(malformed(JSON.stringify({ ...full, List: undefined })), /no List/);
  assert.match(malformed(JSON.stringify({ ...full, List: ["x"] })), /List\[0\] is not an object/);
  assert.match(malformed(JSON.stringify({ ...full, CreateTime: "soon" })), /CreateTime/);
  assert.match(
    malformed(JSON.stringify({ ...full, List: { ...full.List, ErrorCode: "ok" } })),
    /ErrorCode/,
  );
  assert.match(
    malformed(POPUP_XML.replace(/<FromUserName>.*<\/FromUserName>/, "")),
    /FromUserName/,
  );
  assert.match(
    malformed(POPUP_XML.replace("<![CDATA[accept]]>", "")),
    /List\.SubscribeStatusString/,
  );
  assert.match(
    malformed(SENT_XML.replace(/<SubscribeMsgSentEvent>[\s\S]*<\/SubscribeMsgSentEvent>/, "")),
    /no List/,
  );
});

Deno.test("readEncrypt: from a JSON or XML envelope; missing is malformed", () => {
  assert.equal(readEncrypt('{"ToUserName":"gh_1","Encrypt":"QUJD"}'), "QUJD");
  assert.equal(
    readEncrypt(
      "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[QUJD]]></Encrypt></xml>",
    ),
    "QUJD",
  );
  for (const body of ['{"ToUserName":"gh_1"}', '{"Encrypt":7}', "<xml><Encrypt></Encrypt></xml>"]) {
    assert.throws(() => readEncrypt(body), (e) => e instanceof PushError && e.code === "malformed");
  }
});
