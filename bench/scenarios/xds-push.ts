// xDS pushes: 1000 ADS streams (EDS for one service) over 16 HTTP/2
// connections while the registry makes 10 changes a second for 10 s; reports
// each change's delay to each stream (a push carrying two changes delivers
// both, attributed by the revision in its version_info), the pushes sent, and
// the server's CPU per push. The same
// run also measures 1000 Watch subscribers, so the two are compared on one
// machine at one time (interleaved, medians of the runs).
import { DIST, startNode } from "../lib/processes";
import type { Scenario, ScenarioResult } from "../lib/scenario";
import { median } from "../lib/stats";
import { fanout, type FanoutRun } from "./watch-fanout";

const STREAMS = 1_000;
/** Changes (at 10/s) before the measured ones. */
const WARMUP = 30;

/**
 * The server's own share of the delay: the bucket of discovery_xds_push_delay_seconds
 * (change reaching the xDS server to its response handed to the stream) that
 * holds the 99th percentile of the run's EDS pushes, in ms.
 */
async function serverSideP99(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const buckets = text
    .split("\n")
    .filter((line) => line.startsWith("discovery_xds_push_delay_seconds_bucket{") && line.includes('type="ClusterLoadAssignment"'))
    .map((line) => {
      const le = /le="([^"]+)"/.exec(line)![1]!;
      return { le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le) * 1000, count: Number(line.slice(line.lastIndexOf(" ") + 1)) };
    });
  const total = buckets[buckets.length - 1]?.count ?? 0;
  return buckets.find((b) => b.count >= 0.99 * total)?.le ?? Number.NaN;
}

export const xdsPush: Scenario = {
  name: "xds-push",
  description:
    "xDS change-to-push delay in ms (by the revision each push carries): 1000 ADS streams (EDS) over 16 HTTP/2 connections, 10 changes/s for 10 s after 3 s of warm-up (coldP99: the warm-up's p99); against 1000 Watch subscribers in the same run",
  async run({ runs }): Promise<ScenarioResult> {
    const rows: Record<string, unknown>[] = [];
    const byKind = new Map<string, FanoutRun[]>();
    for (let i = 0; i < runs; i++) {
      for (const [kind, client] of [["xds", "xds-push-client"], ["watch", "watch-fanout-client"]] as const) {
        const proc = await startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn" });
        try {
          const result = await fanout(proc, `${DIST}/bench/clients/${client}.js`, STREAMS, 10, 10, WARMUP);
          byKind.set(kind, [...(byKind.get(kind) ?? []), result]);
          const server = { serverP99AtMostMs: kind === "xds" ? await serverSideP99(proc.port) : "" };
          rows.push({ run: i + 1, kind, ...result, ...server });
        } finally {
          await proc.stop();
        }
      }
    }
    const med = (kind: string, key: keyof FanoutRun) => median(byKind.get(kind)!.map((r) => r[key] as number));
    const allDelivered = byKind.get("xds")!.every((r) => r.delivered === r.expected);
    return {
      rows,
      targets: [
        { name: "every change reached every xDS stream", value: allDelivered ? 1 : 0, met: allDelivered },
        { name: "1000 xDS streams: change-to-push p99 < 100 ms (median of runs)", value: med("xds", "p99"), met: allDelivered && med("xds", "p99") < 100 },
      ],
      notes: [
        `xDS p50 ${med("xds", "p50")} ms, p99 ${med("xds", "p99")} ms, ${med("xds", "pushes")} pushes for ${med("xds", "delivered")} changes delivered, ` +
          `server CPU ${med("xds", "serverCpuMicrosPerPush")} µs per push; ` +
          `the server's own p99 (change in to response handed to the stream, from its histogram) at most ${median(rows.filter((r) => r.kind === "xds").map((r) => r.serverP99AtMostMs as number))} ms; ` +
          `Watch p50 ${med("watch", "p50")} ms, p99 ${med("watch", "p99")} ms, ${med("watch", "serverCpuMicrosPerDelivery")} µs per delivery (medians); ` +
          `in the first 3 s of a fresh server (warm-up, not counted above): xDS p99 ${med("xds", "coldP99")} ms, Watch p99 ${med("watch", "coldP99")} ms`,
      ],
    };
  },
};
