/**
 * The audit result as text for a terminal: verification, the replay report, the projection
 * comparison, and a last line saying OK or what failed.
 *
 * @module
 */
import type { AuditResult } from "./audit.ts";

const n = (value: number) => value.toLocaleString("en-US");

/** Whether the audit read everything and found nothing wrong: chain, projection, anomalies. */
export function auditPassed(result: AuditResult): boolean {
  return result.verify.ok && result.verify.complete && (result.comparison?.mismatches ?? 0) === 0 &&
    (result.report?.anomalies.count ?? 0) === 0;
}

/** The lines of the report. */
export function formatAudit(result: AuditResult): string[] {
  const { verify, report, comparison } = result;
  const lines: string[] = [];
  const start = verify.from.seq === 0 ? "genesis" : `checkpoint ${verify.from.seq}`;
  lines.push(
    `chain: ${n(verify.events)} events verified from ${start} through seq ${
      n(verify.through.seq)
    }` + (verify.through.seq > 0 ? ` (hash ${verify.through.hash})` : ""),
  );
  if (verify.head) {
    lines.push(
      `head:  seq ${n(verify.head.seq)}, hash ${verify.head.hash}, at ${verify.head.at ?? "-"}`,
    );
  }
  if (verify.uncheckedCheckpoints.length > 0) {
    lines.push(`not checked (before the start): checkpoints ${verify.uncheckedCheckpoints}`);
  }
  if (verify.break) {
    const b = verify.break;
    lines.push(`BROKEN at seq ${b.seq} (${b.kind}): ${b.message}`);
    if (b.expected !== undefined) lines.push(`  expected ${b.expected}`);
    if (b.found !== undefined) lines.push(`  found    ${b.found}`);
  }
  if (report) {
    lines.push("", "events by type:");
    for (const [type, count] of Object.entries(report.events.byType)) {
      lines.push(`  ${type.padEnd(18)} ${n(count).padStart(12)}`);
    }
    lines.push(`  ${"total".padEnd(18)} ${n(report.events.total).padStart(12)}`);
    lines.push("", `credits by kind at ${report.at} (credits / uses):`);
    lines.push(
      `  ${"kind".padEnd(10)}${
        ["collected", "consumed", "released", "expired", "outstanding"].map((h) => h.padStart(22))
          .join("")
      }`,
    );
    const unbalanced: string[] = [];
    for (const [kind, t] of Object.entries(report.credits)) {
      const pair = (c: { credits: number; uses: number }) => `${n(c.credits)} / ${n(c.uses)}`;
      lines.push(
        `  ${kind.padEnd(10)}${
          [pair(t.collected), n(t.consumed), n(t.released), pair(t.expired), pair(t.outstanding)]
            .map((v) => v.padStart(22)).join("")
        }`,
      );
      const left = t.collected.uses - t.consumed + t.released;
      if (left !== t.expired.uses + t.outstanding.uses) unbalanced.push(kind);
    }
    lines.push(
      "  uses: collected - consumed + released = expired + outstanding: " +
        (unbalanced.length === 0 ? "holds for every kind" : `DOES NOT HOLD for ${unbalanced}`),
    );
    const failed = Object.entries(report.pushes.failedByErrcode)
      .sort(([, a], [, b]) => b - a)
      .map(([code, count]) => `${code}: ${n(count)}`).join(", ");
    lines.push(
      "",
      `pushes: ${n(report.pushes.sent)} sent, ${n(report.pushes.failed)} failed` +
        (failed ? ` (by errcode: ${failed})` : ""),
    );
    lines.push(`users holding valid credits: ${n(report.users)}`);
    if (report.anomalies.count > 0) {
      lines.push(`ANOMALIES: ${n(report.anomalies.count)} events the fold cannot account for:`);
      for (const sample of report.anomalies.samples) lines.push(`  ${sample}`);
    }
  }
  if (comparison) {
    lines.push(
      "",
      `projection at ${comparison.at}: ${n(comparison.users)} users compared, ` +
        `${n(comparison.mismatches)} mismatches` +
        (comparison.skipped ? `, ${n(comparison.skipped)} skipped (written to meanwhile)` : ""),
    );
    for (const m of comparison.samples) {
      lines.push(
        `  MISMATCH ${m.openId}: log says ${m.rebuilt.valid} credits / ${m.rebuilt.sends} sends,` +
          ` live says ${m.live.valid} / ${m.live.sends}`,
      );
    }
  } else if (report) {
    lines.push("", "projection: not compared (no live store, or not replayed from genesis)");
  }
  const problems = [
    ...(verify.break ? [`chain broken at seq ${verify.break.seq}`] : []),
    ...(!verify.complete ? ["stopped before the end"] : []),
    ...(comparison?.mismatches ? [`${comparison.mismatches} projection mismatches`] : []),
    ...(report?.anomalies.count ? [`${report.anomalies.count} anomalies`] : []),
  ];
  lines.push("", problems.length === 0 ? "result: OK" : `result: FAILED (${problems.join("; ")})`);
  return lines;
}
