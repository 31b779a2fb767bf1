// Scenario 2, Watch fan-out: 10000 subscribers over 16 connections while the
// registry makes 10 changes a second for 10 s (100k deliveries/s), then 1000
// subscribers. Reports every delivery's delay from its change, and the server's
// memory per idle subscriber (RSS growth / subscribers).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLIENT_CORE, DIST, rssOf, startNode, cpuSecondsOf, type Proc } from "../lib/processes";
import { round } from "../lib/stats";
import type { Scenario, ScenarioResult } from "../lib/scenario";

export interface FanoutRun {
  subscribers: number;
  /** Changes that reached a subscriber (a coalesced push delivers each change it carries). */
  delivered: number;
  expected: number;
  /** Messages the subscribers received after their snapshot (Watch: one per delivery; xDS: responses). */
  pushes: number;
  p50: number;
  p99: number;
  max: number;
  bytesPerSubscriber: number;
  serverCpuShare: number;
  /** Server CPU time per delivery: robust to the shared machine's contention. */
  serverCpuMicrosPerDelivery: number;
  serverCpuMicrosPerPush: number;
  /** With a warm-up: the p99 of the warm-up changes (a server's first seconds), not counted above. */
  coldP99?: number;
}

/**
 * Runs one fan-out against a started server with the given client script. With
 * `warmup` changes, those run first and only the changes after them are measured
 * (delays and the server's CPU); their p99 is reported as coldP99.
 */
export async function fanout(proc: Proc, clientScript: string, subscribers: number, perSecond: number, seconds: number, warmup = 0): Promise<FanoutRun> {
  const rssBefore = rssOf(proc.child.pid!);
  const client = spawn("taskset", ["-c", String(CLIENT_CORE), process.execPath, clientScript, String(proc.port), String(subscribers), "16", String(perSecond), String(seconds), String(warmup)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: client.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
  if ((await next()).phase !== "ready") throw new Error("fan-out client did not get ready");
  await new Promise((r) => setTimeout(r, 1000)); // let the server settle before reading its memory
  const rssIdle = rssOf(proc.child.pid!);
  client.stdin!.write("go\n");
  if (warmup > 0 && (await next()).phase !== "warm") throw new Error("fan-out client did not finish its warm-up");
  const cpuBefore = cpuSecondsOf(proc.child.pid!);
  const started = Date.now();
  if (warmup > 0) client.stdin!.write("measure\n");
  const done = await next();
  const cpu = cpuSecondsOf(proc.child.pid!) - cpuBefore;
  const latencies = done.latencies as { p50: number; p99: number; max: number };
  return {
    subscribers,
    delivered: done.delivered as number,
    expected: done.expected as number,
    pushes: (done.pushes as number | undefined) ?? (done.delivered as number),
    p50: round(latencies.p50, 1),
    p99: round(latencies.p99, 1),
    max: round(latencies.max, 1),
    bytesPerSubscriber: Math.round((rssIdle - rssBefore) / subscribers),
    serverCpuShare: round(cpu / ((Date.now() - started) / 1000), 2),
    serverCpuMicrosPerDelivery: round((cpu * 1e6) / Math.max(1, done.delivered as number), 2),
    serverCpuMicrosPerPush: round((cpu * 1e6) / Math.max(1, (done.pushes as number | undefined) ?? (done.delivered as number)), 2),
    ...(done.cold === undefined ? {} : { coldP99: round((done.cold as { p99: number }).p99, 1) }),
  };
}

export const watchFanout: Scenario = {
  name: "watch-fanout",
  description: "Watch deliveries: 10 changes/s for 10 s to N subscribers over 16 HTTP/2 connections; delay from change to delivery in ms",
  async run({ runs }): Promise<ScenarioResult> {
    const rows: Record<string, unknown>[] = [];
    const best = new Map<number, FanoutRun[]>();
    for (let i = 0; i < runs; i++) {
      for (const subscribers of [10_000, 1_000]) {
        const proc = await startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn", DISCOVERY_MAX_WATCHERS: "20000" });
        try {
          const result = await fanout(proc, `${DIST}/bench/clients/watch-fanout-client.js`, subscribers, 10, 10);
          best.set(subscribers, [...(best.get(subscribers) ?? []), result]);
          rows.push({ run: i + 1, ...result });
        } finally {
          await proc.stop();
        }
      }
    }
    const med = (subscribers: number, key: keyof FanoutRun) =>
      [...best.get(subscribers)!.map((r) => r[key] as number)].sort((a, b) => a - b)[Math.floor(best.get(subscribers)!.length / 2)]!;
    const allDelivered = [...best.values()].flat().every((r) => r.delivered === r.expected);
    return {
      rows,
      targets: [
        { name: "every event delivered", value: allDelivered ? 1 : 0, met: allDelivered },
        { name: "10000 subscribers: p99 < 150 ms (median of runs)", value: med(10_000, "p99"), met: allDelivered && med(10_000, "p99") < 150 },
        { name: "10000 subscribers: < 16 KB server memory per idle subscriber", value: med(10_000, "bytesPerSubscriber"), met: med(10_000, "bytesPerSubscriber") < 16_384 },
        { name: "1000 subscribers: p99 < 20 ms", value: med(1_000, "p99"), met: allDelivered && med(1_000, "p99") < 20 },
      ],
    };
  },
};
