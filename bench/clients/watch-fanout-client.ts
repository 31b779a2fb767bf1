// The Watch fan-out load: N subscribers on raw HTTP/2 streams spread over a few
// connections, and the driver of the changes, in one process so that a change
// and its deliveries are timed on one clock. Each change (a load crossing on one
// instance) emits exactly one event, so the k-th live event is the k-th change.
// Protocol with the harness: prints {"phase":"ready"} once every stream is
// SYNCED, waits for a line on stdin, then runs and prints {"phase":"done",...}.
import * as http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fromBinary } from "@bufbuild/protobuf";
import { EventType, HeartbeatRequestSchema, RegisterRequestSchema, WatchEventSchema, WatchRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { FrameReader, frameMessage } from "../lib/grpc-frame";

export interface FanoutTarget {
  /**
   * Opens one subscription; calls onEvent(now) per live event after the snapshot,
   * or onEvent(now, revision) when what arrived reflects the registry up to `revision`.
   */
  subscribe(session: http2.ClientHttp2Session, onSynced: () => void, onEvent: (now: number, revision?: number) => void): void;
  /** Makes change k, which must produce exactly one event for every subscriber. */
  change(session: http2.ClientHttp2Session, k: number): void;
  prepare(session: http2.ClientHttp2Session): Promise<void>;
  /**
   * For targets that coalesce (xDS): learns the registry revision of each change
   * as the run goes; a delivery then counts every change at or below the
   * revision it carries, each with its own delay.
   */
  revisions?(session: http2.ClientHttp2Session): Promise<(k: number) => number | undefined>;
}

const SERVICE = "fanout";
const watchBody = frameMessage(WatchRequestSchema, { serviceNames: [SERVICE] });
const grpcHeaders = (path: string) => ({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });

/** Our registry: Watch streams; changes are heartbeats that cross the critical-load threshold. */
export const ourRegistry: FanoutTarget = {
  subscribe(session, onSynced, onEvent) {
    const stream = session.request(grpcHeaders("/discovery.v1.DiscoveryService/Watch"));
    let synced = false;
    const reader = new FrameReader();
    stream.on("data", (chunk: Buffer) => {
      const now = performance.now();
      // Decode only the snapshot, up to SYNCED; after that every frame is a live event.
      reader.push(chunk, (payload) => {
        if (synced) return onEvent(now);
        if (fromBinary(WatchEventSchema, payload).type === EventType.SYNCED) {
          synced = true;
          onSynced();
        }
      });
    });
    stream.on("error", () => {});
    stream.end(watchBody);
  },
  change(session, k) {
    const body = frameMessage(HeartbeatRequestSchema, { serviceName: SERVICE, instanceId: "hot", loadPercentage: k % 2 === 0 ? 0.9 : 0.5 });
    const stream = session.request(grpcHeaders("/discovery.v1.DiscoveryService/Heartbeat"));
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.end(body);
  },
  async prepare(session) {
    await new Promise<void>((resolve, reject) => {
      const stream = session.request(grpcHeaders("/discovery.v1.DiscoveryService/Register"));
      stream.on("data", () => {});
      stream.on("end", resolve);
      stream.on("error", reject);
      stream.end(frameMessage(RegisterRequestSchema, { serviceName: SERVICE, instanceId: "hot", host: "h", port: 1, ttl: { seconds: 3600n }, loadPercentage: 0.5 }));
    });
  },
};

/**
 * Drives the run: argv is port, subscribers, connections, changes per second,
 * seconds measured, and changes of warm-up (default 0). Warm-up changes run
 * first, at the same rate, and are reported apart ("cold"): the measured changes
 * meet a server whose code paths are compiled, as a long-running one is.
 * Protocol: {"phase":"ready"} → "go" → (warm-up) {"phase":"warm"} → "measure" → {"phase":"done"}.
 */
export async function runFanoutClient(target: FanoutTarget): Promise<void> {
  const [port, subscribers, connections, perSecond, seconds, warmup = 0] = process.argv.slice(2).map(Number) as [number, number, number, number, number, number?];
  const sessions = Array.from({ length: connections }, () => {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20 } });
    session.on("error", () => {});
    return session;
  });
  const driver = http2.connect(`http://127.0.0.1:${port}`);
  await target.prepare(driver);
  const revisionOf = await target.revisions?.(driver);
  const measured = perSecond * seconds;
  const changes = warmup + measured;
  const sentAt: number[] = [];
  /** Per change: its delay to each subscriber that got it. */
  const delays = Array.from({ length: changes }, () => [] as number[]);
  const received = new Array<number>(subscribers).fill(0);
  // By revision: each subscriber's arrivals, attributed once every change's revision is known.
  const arrivals = Array.from({ length: subscribers }, () => [] as { now: number; revision: number }[]);
  let pushes = 0;
  let synced = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < subscribers; i++) {
      target.subscribe(
        sessions[i % connections]!,
        () => ++synced === subscribers && resolve(),
        (now, revision) => {
          pushes++;
          if (revision !== undefined) return void arrivals[i]!.push({ now, revision });
          const k = received[i]!++;
          delays[k]?.push(now - (sentAt[k] ?? now));
        },
      );
    }
  });
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  console.log(JSON.stringify({ phase: "ready" }));
  await lines.next();
  /** Makes changes [from, to) at the rate, then waits (bounded) until the last has reached every subscriber. */
  const drive = async (from: number, to: number) => {
    const started = performance.now();
    for (let k = from; k < to; k++) {
      const due = started + ((k - from) * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt[k] = performance.now();
      target.change(driver, k);
    }
    const deadline = performance.now() + 10_000;
    const complete = () => (revisionOf === undefined ? delays[to - 1]!.length >= subscribers : everyArrived(arrivals, revisionOf(to - 1)));
    while (!complete() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  if (warmup > 0) {
    await drive(0, warmup);
    const pushesWarm = pushes;
    console.log(JSON.stringify({ phase: "warm" }));
    await lines.next();
    pushes = 0;
    await drive(warmup, changes);
    if (revisionOf !== undefined) attribute(arrivals, changes, revisionOf, sentAt, delays);
    const cold = delays.slice(0, warmup).flat();
    const latencies = delays.slice(warmup).flat();
    console.log(JSON.stringify({ phase: "done", expected: measured * subscribers, delivered: latencies.length, pushes, latencies: summarize(latencies), cold: { pushes: pushesWarm, ...summarize(cold) } }));
  } else {
    await drive(0, changes);
    if (revisionOf !== undefined) attribute(arrivals, changes, revisionOf, sentAt, delays);
    const latencies = delays.flat();
    console.log(JSON.stringify({ phase: "done", expected: changes * subscribers, delivered: latencies.length, pushes, latencies: summarize(latencies) }));
  }
  for (const s of [...sessions, driver]) s.destroy();
  process.exit(0);
}

function everyArrived(arrivals: readonly { revision: number }[][], last: number | undefined): boolean {
  return last !== undefined && arrivals.every((mine) => (mine[mine.length - 1]?.revision ?? -1) >= last);
}

/** Change k reaches a subscriber with the first arrival whose revision is at or past k's. */
function attribute(
  arrivals: readonly { now: number; revision: number }[][],
  changes: number,
  revisionOf: (k: number) => number | undefined,
  sentAt: readonly number[],
  delays: number[][],
): void {
  for (const mine of arrivals) {
    let at = 0;
    for (let k = 0; k < changes; k++) {
      const revision = revisionOf(k);
      if (revision === undefined) continue; // the change made no event: nothing to deliver
      while (at < mine.length && mine[at]!.revision < revision) at++;
      if (at === mine.length) break;
      delays[k]!.push(mine[at]!.now - sentAt[k]!);
    }
  }
}

function summarize(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = values.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

if (require.main === module) void runFanoutClient(ourRegistry);
