// Registry scale, in one process (run with --expose-gc): memory per instance at
// 100k and 1M instances, and how late 100k leases spread over 10 s expire under
// the real expiry timer, with the event loop's delay meanwhile. Prints one JSON line.
import { randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { DEFAULT_WATCH_HISTORY_SIZE } from "../../src/core/limits";
import { Registry } from "../../src/core/registry";
import { MemoryStore } from "../../src/store/memory/memory-store";
import type { RegisterInput } from "../../src/core/types";
import { startExpiryTimer } from "../../src/runtime/expiry-timer";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function input(i: number, services: number, ttlMs: number): RegisterInput {
  return {
    serviceName: `svc-${i % services}`,
    instanceId: `i-${i}`,
    host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
    healthEndpoint: "/health",
    metadata: { zone: `z${i % 3}`, version: "1.4.2" },
    ttlMs,
    load: (i % 100) / 100,
  };
}

function settledMemory(): { heap: number; rss: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

function memoryPerInstance(count: number, services: number): Record<string, number> {
  const registry = new Registry({
    store: new MemoryStore({ baseRevision: Date.now() * 1000, historySize: DEFAULT_WATCH_HISTORY_SIZE }),
    clock: { now: () => Date.now() },
    newInstanceId: randomUUID,
    limits: { maxInstances: count },
  });
  const before = settledMemory();
  const started = Date.now();
  // The memory store applies each write before register() returns its promise.
  for (let i = 0; i < count; i++) void registry.register(input(i, services, 3_600_000));
  const seconds = (Date.now() - started) / 1000;
  const after = settledMemory();
  const result = {
    instances: registry.store.instanceCount,
    registerPerSecond: Math.round(count / seconds),
    heapBytesPerInstance: Math.round((after.heap - before.heap) / count),
    rssBytesPerInstance: Math.round((after.rss - before.rss) / count),
    heapMiB: Math.round(after.heap / 2 ** 20),
    rssMiB: Math.round(after.rss / 2 ** 20),
  };
  return result;
}

async function expiryLateness(count: number, spreadMs: number): Promise<Record<string, number>> {
  const registry = new Registry({
    store: new MemoryStore({ baseRevision: Date.now() * 1000, historySize: 10_000 }),
    clock: { now: () => Date.now() },
    newInstanceId: randomUUID,
    limits: { maxInstances: count },
  });
  // Leases of 1 s and more, their deadlines spread evenly over `spreadMs` after registration ends.
  const registeredBy = Date.now() + 3_000;
  const lateness: number[] = [];
  registry.store.onEvent((event) => {
    if (event.type !== "expired") return;
    lateness.push(Date.now() - (event.instance.lastHeartbeat + event.instance.ttlMs));
  });
  for (let i = 0; i < count; i++) {
    const deadline = registeredBy + Math.floor((i / count) * spreadMs);
    void registry.register(input(i, 1000, Math.max(1_000, deadline - Date.now())));
  }
  if (Date.now() > registeredBy) throw new Error("registering took longer than the head start");
  const controller = new AbortController();
  startExpiryTimer(registry, { signal: controller.signal });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  while (registry.store.instanceCount > 0 && Date.now() < registeredBy + spreadMs + 10_000) await new Promise((r) => setTimeout(r, 20));
  delay.disable();
  controller.abort();
  lateness.sort((a, b) => a - b);
  const at = (p: number) => lateness[Math.min(lateness.length - 1, Math.ceil(p * lateness.length) - 1)]!;
  return {
    expired: lateness.length,
    latenessP50Ms: at(0.5),
    latenessP99Ms: at(0.99),
    latenessMaxMs: lateness[lateness.length - 1]!,
    eventLoopDelayP99Ms: Math.round(delay.percentile(99) / 1e5) / 10,
  };
}

async function main(): Promise<void> {
  const hundredK = memoryPerInstance(100_000, 1_000);
  const expiry = await expiryLateness(100_000, 10_000);
  const million = memoryPerInstance(1_000_000, 1_000);
  console.log(JSON.stringify({ hundredK, expiry, million }));
}

void main();
