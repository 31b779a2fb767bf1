// The server's Prometheus metrics, on an injected prom-client Registry (never the
// global default, so tests and several servers in one process stay apart).
// State (instances, watchers) is read at scrape time; counters are fed by
// registry events, the RPC wrapper, and hooks with prebound label children.
import { Counter, Gauge, Histogram, type Registry as PromRegistry } from "prom-client";
import type { RegistryStore } from "../core/store";
import type { ChangeType } from "../core/types";
import type { WatchHub } from "../watch/watch-hub";
import { createRpcCells, type CallObserver } from "./rpc-cells";

/** Buckets of the RPC latency histogram, in seconds (unary calls are sub-millisecond; streams last long). */
export const RPC_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600];
/** Buckets of the probe latency histogram, in seconds. */
export const PROBE_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What one health probe found (see ProbeOutcome in the proto). */
export type ProbeOutcome = "pass" | "degraded" | "fail";

export interface Metrics {
  readonly register: PromRegistry;
  /** A renewed lease (Heartbeat or a KeepAlive message). Prebound: cheap on the hot path. */
  heartbeat(): void;
  /**
   * One finished health probe: its outcome and how long it took. The prober
   * calls this for every probe it runs (scheduled or CheckNow).
   */
  observeProbe(outcome: ProbeOutcome, seconds: number): void;
  /** The observer for one method ("discovery.v1.DiscoveryService/Register"); bind once, call per RPC. */
  rpcObserver(method: string): CallObserver;
  /** One unexpected error a stream raised: the transport reset that stream and went on. */
  streamFault(): void;
}

export interface MetricsOptions {
  register: PromRegistry;
  store: RegistryStore;
  hub: WatchHub;
  /** Prefix of every metric name. */
  prefix?: string;
}

/** Default prefix of every metric name. */
export const METRIC_PREFIX = "discovery_";

const CHANGE_TYPES: readonly ChangeType[] = ["registered", "updated", "health-changed", "load-critical", "load-normal", "unregistered", "expired"];

export function createMetrics(options: MetricsOptions): Metrics {
  const { register, store, hub } = options;
  const p = options.prefix ?? METRIC_PREFIX;
  const registers = [register];

  new Gauge({
    name: `${p}instances`,
    help: "Registered instances by service and status.",
    labelNames: ["service", "status"] as const,
    registers,
    collect() {
      this.reset();
      for (const service of store.serviceNames()) {
        const counts = new Map<string, number>();
        for (const instance of store.instancesOf(service)) counts.set(instance.status, (counts.get(instance.status) ?? 0) + 1);
        for (const [status, count] of counts) this.set({ service, status }, count);
      }
    },
  });
  new Gauge({
    name: `${p}critical_load_instances`,
    help: "Instances flagged at critical load, by service.",
    labelNames: ["service"] as const,
    registers,
    collect() {
      this.reset();
      for (const summary of store.summaries()) this.set({ service: summary.serviceName }, summary.criticalLoadCount);
    },
  });
  new Gauge({
    name: `${p}watchers`,
    help: "Watch streams connected.",
    registers,
    collect() {
      this.set(hub.watcherCount);
    },
  });
  new Counter({
    name: `${p}watchers_slow_resets_total`,
    help: "Times a Watch subscriber fell more than WATCH_QUEUE_LIMIT events behind and its backlog was dropped (it got RESET).",
    registers,
    collect() {
      this.reset();
      this.inc(hub.slowResets);
    },
  });

  const events = new Counter({ name: `${p}events_total`, help: "Registry events emitted, by type.", labelNames: ["type"] as const, registers });
  const registrations = new Counter({ name: `${p}registrations_total`, help: "New instances registered (re-registrations count as events_total{type=\"updated\"}).", registers });
  const expirations = new Counter({ name: `${p}expirations_total`, help: "Instances removed because their lease ran out.", registers });
  const unregistrations = new Counter({ name: `${p}unregistrations_total`, help: "Instances removed by Unregister.", registers });
  // Known label values are exposed from the start (at 0), so rates and alerts work before the first event.
  const byType = new Map(CHANGE_TYPES.map((type) => [type as string, events.labels(type)]));
  for (const child of byType.values()) child.inc(0);
  store.onEvent((event) => {
    let child = byType.get(event.type);
    if (child === undefined) byType.set(event.type, (child = events.labels(event.type)));
    child.inc();
    if (event.type === "registered") registrations.inc();
    else if (event.type === "expired") expirations.inc();
    else if (event.type === "unregistered") unregistrations.inc();
  });

  const heartbeats = new Counter({ name: `${p}heartbeats_total`, help: "Leases renewed by a heartbeat.", registers });

  const probes = new Counter({ name: `${p}probes_total`, help: "Health probes run, by outcome.", labelNames: ["outcome"] as const, registers });
  const probeLatency = new Histogram({
    name: `${p}probe_duration_seconds`,
    help: "Health probe latency, by outcome.",
    labelNames: ["outcome"] as const,
    buckets: PROBE_LATENCY_BUCKETS,
    registers,
  });
  const probeChildren = new Map(
    (["pass", "degraded", "fail"] as const).map((outcome) => {
      probes.inc({ outcome }, 0);
      probeLatency.zero({ outcome });
      return [outcome, { count: probes.labels(outcome), latency: probeLatency.labels(outcome) }];
    }),
  );

  const streamFaults = new Counter({
    name: `${p}stream_faults_total`,
    help: "Unexpected errors raised on one stream, contained by resetting that stream (each is logged; any is a bug to report).",
    registers,
  });

  const rpcCells = createRpcCells(register, { total: `${p}rpc_total`, duration: `${p}rpc_duration_seconds` }, RPC_LATENCY_BUCKETS);

  return {
    register,
    heartbeat: () => heartbeats.inc(),
    observeProbe(outcome, seconds) {
      const children = probeChildren.get(outcome);
      if (children === undefined) throw new Error(`unknown probe outcome: ${String(outcome)}`);
      children.count.inc();
      children.latency.observe(seconds);
    },
    rpcObserver: (method) => rpcCells.observer(method),
    streamFault: () => streamFaults.inc(),
  };
}
