// Prometheus metrics of the xDS server: streams by resource type, pushes,
// NACKs and the delay from a registry change to its push, on the server's
// own prom-client Registry.
import { Counter, Gauge, Histogram, type Registry as PromRegistry } from "prom-client";
import type { XdsObserver } from "../services/xds/ads-service";
import { TYPE_URLS, type TypeUrl } from "../services/xds/resources";
import { METRIC_PREFIX } from "./metrics";

/** Buckets of the change-to-push histogram, in seconds. */
export const XDS_PUSH_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** "type.googleapis.com/envoy.config.cluster.v3.Cluster" → "Cluster": short label values. */
function shortName(type: TypeUrl): string {
  return type.slice(type.lastIndexOf(".") + 1);
}

export function createXdsMetrics(register: PromRegistry, prefix = METRIC_PREFIX): XdsObserver {
  const registers = [register];
  const streams = new Gauge({ name: `${prefix}xds_streams`, help: "xDS (ADS) streams open.", registers });
  const subscribed = new Gauge({
    name: `${prefix}xds_stream_subscriptions`,
    help: "Open xDS streams that subscribed to each resource type.",
    labelNames: ["type"] as const,
    registers,
  });
  const pushes = new Counter({ name: `${prefix}xds_pushes_total`, help: "xDS responses sent, by resource type.", labelNames: ["type"] as const, registers });
  const nacks = new Counter({ name: `${prefix}xds_nacks_total`, help: "xDS responses a client rejected (NACK), by resource type.", labelNames: ["type"] as const, registers });
  const delay = new Histogram({
    name: `${prefix}xds_push_delay_seconds`,
    help: "From a registry change (or a request) reaching the xDS server to its response being handed to the stream.",
    labelNames: ["type"] as const,
    buckets: XDS_PUSH_DELAY_BUCKETS,
    registers,
  });
  // Label children made once per type: a push is then a counter and a histogram update, no label hashing.
  const byType = new Map(
    TYPE_URLS.map((type) => {
      const label = { type: shortName(type) };
      subscribed.set(label, 0);
      nacks.inc(label, 0);
      delay.zero(label);
      return [type, { pushes: pushes.labels(label), delay: delay.labels(label) }] as const;
    }),
  );
  for (const { pushes: count } of byType.values()) count.inc(0);
  // Per stream, the types it subscribed to: the gauge goes down when the stream closes.
  return {
    streamOpened: () => streams.inc(),
    streamClosed: () => streams.dec(),
    subscribed: (type) => subscribed.inc({ type: shortName(type) }),
    unsubscribed: (type) => subscribed.dec({ type: shortName(type) }),
    nack: (type) => nacks.inc({ type: shortName(type) }),
    pushed: (type, delayMs) => {
      const of = byType.get(type);
      of?.pushes.inc();
      of?.delay.observe(delayMs / 1000);
    },
  };
}
