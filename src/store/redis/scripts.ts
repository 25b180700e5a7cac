/**
 * Loads the Lua scripts: each writing script is `lib.lua` followed by its own file.
 *
 * @module
 */

function source(name: string): string {
  return Deno.readTextFileSync(new URL(`./lua/${name}.lua`, import.meta.url));
}

const lib = source("lib");

/** The source of each Lua script, ready for `redis.createScript`. */
export const SCRIPTS = {
  collect: `${lib}\n${source("collect")}`,
  consume: `${lib}\n${source("consume")}`,
  release: `${lib}\n${source("release")}`,
  append: `${lib}\n${source("append")}`,
  take: `${lib}\n${source("take")}`,
  record: `${lib}\n${source("record")}`,
  tally: source("tally"),
  swap: source("swap"),
  pending: source("pending"),
  seal: source("seal"),
  writeUsers: source("write_users"),
  view: source("view"),
  users: source("users"),
  projection: source("projection"),
  unlock: source("unlock"),
};
