/**
 * A small stand-in for the service's push URL in tests: every request goes through the real
 * `openPush` (signature, timestamp, decryption, replay guard) and a verified message is kept.
 * It answers `success`, or, while `failNext` counts down, a non-success answer (HTTP 500, or a
 * 200 whose body is not `success`) after releasing the replay key, so WeChat's retry is taken.
 *
 * @module
 */
import type { PushMessage } from "../../src/wechat/event_push/events.ts";
import { openPush, type PushConfig } from "../../src/wechat/event_push/open.ts";
import { MemoryReplayGuard } from "../../src/wechat/event_push/replay.ts";

/** A running receiver. */
export interface PushReceiver {
  url: string;
  /** Verified messages, each once (replays are answered but not kept). */
  received: PushMessage[];
  /** Every request's outcome: "message", "replayed", "failed" or a refusal code. */
  outcomes: string[];
  /** The next `n` verified messages are answered without `success`. */
  failNext(n: number, how?: "http500" | "body"): void;
  close(): Promise<void>;
}

/**
 * Starts a receiver on a free port.
 *
 * @example
 * ```ts
 * const rx = await startPushReceiver({ token, appid, mode: "safe", encodingAESKey });
 * ```
 */
export async function startPushReceiver(config: PushConfig): Promise<PushReceiver> {
  const guard = new MemoryReplayGuard();
  const received: PushMessage[] = [];
  const outcomes: string[] = [];
  let failing = 0;
  let failHow: "http500" | "body" = "http500";
  const { promise: listening, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => resolve() },
    async (req) => {
      const url = new URL(req.url);
      const outcome = await openPush({
        method: req.method,
        query: url.searchParams,
        body: await req.text(),
        config,
        guard,
      });
      if (outcome.kind === "echo") return new Response(outcome.echostr);
      if (outcome.kind === "message") {
        if (failing > 0) {
          failing--;
          outcomes.push("failed");
          await guard.release(outcome.replayKey);
          return failHow === "body"
            ? new Response("busy")
            : new Response("ledger unavailable", { status: 500 });
        }
        outcomes.push("message");
        received.push(outcome.message);
        return new Response("success");
      }
      outcomes.push(outcome.error.code);
      if (outcome.error.code === "replayed") return new Response("success");
      return Response.json({ error: { code: outcome.error.code } }, { status: 401 });
    },
  );
  await listening;
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1/wechat/events`,
    received,
    outcomes,
    failNext(n, how = "http500") {
      failing = n;
      failHow = how;
    },
    close: () => server.shutdown(),
  };
}
