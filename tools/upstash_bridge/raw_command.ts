/**
 * Commands sent to Redis exactly as the REST client wrote them, and Redis's replies relayed
 * exactly as Redis sent them: none of ioredis's per-command transformations applies.
 */
import type { Buffer } from "node:buffer";
import { Command } from "ioredis";

/**
 * An ioredis command whose reply is the raw RESP value (buffers, integers, arrays of them).
 *
 * ioredis rewrites some replies (`hgetall`, in lower case as `@upstash/redis` sends it, becomes
 * an object of field to value) and some arguments (`mset`, `msetnx`, `hset`, `hmset` given one
 * object or Map). Upstash answers the plain RESP reply, so this class skips the reply
 * transformer, and it never asks ioredis to decode buffers: the bridge encodes them itself.
 * The argument transformers only expand an object or Map argument; the bridge only ever passes
 * strings, which they return untouched.
 *
 * @example
 * ```ts
 * const reply = await redis.sendCommand(new RawCommand("hgetall", ["k"]));
 * // [<Buffer 66>, <Buffer 76>], not { f: <Buffer 76> }
 * ```
 */
export class RawCommand extends Command {
  constructor(name: string, args: string[]) {
    // No replyEncoding: replies stay buffers, whatever the command.
    super(name, args, {});
  }

  /** Returns the reply as Redis sent it (the base class would apply a reply transformer). */
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

/**
 * Sends one command (`[name, ...args]`) on `target` and resolves with its raw reply.
 *
 * @example
 * ```ts
 * const reply = await sendRaw(redis, ["HGETALL", "k"]); // a flat array of buffers
 * ```
 */
export function sendRaw(
  target: { sendCommand(command: Command): unknown },
  cmd: string[],
): Promise<unknown> {
  const command = new RawCommand(cmd[0], cmd.slice(1));
  target.sendCommand(command);
  return command.promise;
}
