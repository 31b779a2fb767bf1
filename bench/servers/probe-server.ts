// The server under test in its own process (so the load generator and the probe
// targets do not share its event loop), answering measurement requests over IPC:
// event-loop delay (perf_hooks), CPU time and probes completed in a window.
import { monitorEventLoopDelay } from "node:perf_hooks";
import pino from "pino";
import { startServer } from "../../src/server/create-server";

const LOOP_SAMPLE_MS = 10;

async function main(): Promise<void> {
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    logger: pino({ level: "silent" }),
    limits: { maxInstances: 100_000, defaultTtlMs: 3_600_000 },
  });
  // The histogram records whole sampling intervals; the reported delay is what exceeds one.
  const delay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  delay.enable();
  let window = { cpu: process.cpuUsage(), at: performance.now(), probes: 0 };
  process.on("message", (message: { t: string }) => {
    if (message.t === "start") {
      delay.reset();
      window = { cpu: process.cpuUsage(), at: performance.now(), probes: server.prober?.stats.completed ?? 0 };
      process.send!({ t: "started" });
    } else if (message.t === "stop") {
      const elapsedMs = performance.now() - window.at;
      const cpu = process.cpuUsage(window.cpu);
      const stats = server.prober?.stats;
      process.send!({
        t: "stopped",
        elapsedMs,
        cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
        loopDelayP99Ms: Math.max(0, delay.percentile(99) / 1e6 - LOOP_SAMPLE_MS),
        loopDelayMaxMs: Math.max(0, delay.max / 1e6 - LOOP_SAMPLE_MS),
        probes: (stats?.completed ?? 0) - window.probes,
        targets: stats?.targets ?? 0,
      });
    } else if (message.t === "close") {
      void server.close().then(() => process.exit(0));
    }
  });
  process.send!({ t: "listening", port: server.port });
}

void main();
