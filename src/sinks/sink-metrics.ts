// The sinks' counters on /metrics: what each sink published, retried and dropped,
// and how much it holds. Created on the server's prom-client Registry.
import { Counter, Gauge, type Registry as PromRegistry } from "prom-client";
import { METRIC_PREFIX } from "../metrics/metrics";

export type SinkName = "nats" | "webhook";
/**
 * How a message left a sink: sent, failed after its last attempt, dropped from
 * a full queue, or (cluster mode) let go early from the hold for another owner.
 */
export type SinkResult = "delivered" | "failed" | "dropped" | "hold_evicted";

export interface SinkMetrics {
  count(sink: SinkName, result: SinkResult, n?: number): void;
  retry(sink: SinkName): void;
  /** Registers a running sink: how many messages it holds (read at scrape time); its counters start at 0. */
  queued(sink: SinkName, read: () => number): void;
}

export function createSinkMetrics(register: PromRegistry, prefix = METRIC_PREFIX): SinkMetrics {
  const registers = [register];
  const messages = new Counter({
    name: `${prefix}sink_messages_total`,
    help: "Messages each sink handled, by result: delivered, failed (after its last attempt), dropped (queue full) or hold_evicted (cluster mode: held for another node, let go early).",
    labelNames: ["sink", "result"] as const,
    registers,
  });
  const retries = new Counter({ name: `${prefix}sink_retries_total`, help: "Delivery attempts repeated after a failure.", labelNames: ["sink"] as const, registers });
  const readers = new Map<SinkName, () => number>();
  new Gauge({
    name: `${prefix}sink_queue_length`,
    help: "Messages a sink holds: queued or in flight.",
    labelNames: ["sink"] as const,
    registers,
    collect() {
      this.reset();
      for (const [sink, read] of readers) this.set({ sink }, read());
    },
  });
  return {
    count: (sink, result, n = 1) => messages.inc({ sink, result }, n),
    retry: (sink) => retries.inc({ sink }),
    queued: (sink, read) => {
      readers.set(sink, read);
      // A running sink shows its counters at 0 from the start, so rates and alerts work before the first message.
      for (const result of ["delivered", "failed", "dropped"] as const) messages.inc({ sink, result }, 0);
      retries.inc({ sink }, 0);
    },
  };
}
