/**
 * Calls the WeChat simulator's control API (`/__sim/...`): one POST with a JSON body, the JSON
 * answer, and a thrown error naming the path when the simulator refuses.
 *
 * @module
 */

/**
 * POSTs `body` to the simulator at `simUrl` and returns its JSON answer.
 *
 * @example
 * ```ts
 * await simControl(sim.url, "/__sim/grants", { openid, templateId: "TPL", count: 1 });
 * ```
 */
export async function simControl(
  simUrl: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${simUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`sim ${path}: ${JSON.stringify(json)}`);
  return json;
}
