// The commands that act on one instance: drain (leave gracefully), heartbeat
// (renew the lease by hand, with a load or status report), check-now (probe it
// now) and history (its recent probe results). Text for people, --json the API's JSON.
import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampMs, type Duration } from "@bufbuild/protobuf/wkt";
import {
  CheckNowResponseSchema,
  GetHealthHistoryResponseSchema,
  HealthStatus,
  HeartbeatResponseSchema,
  ProbeOutcome,
  type HealthCheckResult,
} from "../../gen/discovery/v1/discovery_pb";
import { durationFromMs, durationToMs } from "../common/duration";
import type { CommandContext } from "./commands";
import { loadText, statusText } from "./instance-text";
import { safeJson, safeText, table, type Output } from "./output";
import { CALL_TIMEOUT_MS } from "./registry-client";

/** The statuses an instance may report about itself (the registry refuses the others). */
export const REPORTABLE_STATUS: Record<string, HealthStatus> = {
  healthy: HealthStatus.HEALTHY,
  degraded: HealthStatus.DEGRADED,
  unhealthy: HealthStatus.UNHEALTHY,
};

function printJson<S extends DescMessage>(out: Output, schema: S, message: MessageShape<S>): void {
  out.line(safeJson(toJson(schema, message)));
}

/** Marks the instance DRAINING for `forMs`, after which the registry removes it (0: at once). */
export async function drain({ client, out, json }: CommandContext, service: string, id: string, forMs: number): Promise<void> {
  await client.unregister({ serviceName: service, instanceId: id, drain: forMs > 0 ? durationFromMs(forMs) : undefined }, { timeoutMs: CALL_TIMEOUT_MS });
  if (json) return out.line("{}");
  out.line(forMs > 0 ? `draining ${service}/${id} for ${seconds(forMs)}; the registry removes it after that` : `unregistered ${service}/${id}`);
}

export interface HeartbeatOptions {
  load: number | undefined;
  status: HealthStatus | undefined;
}

/** One heartbeat: renews the lease, with the load and status given. */
export async function heartbeat({ client, out, json }: CommandContext, service: string, id: string, options: HeartbeatOptions): Promise<void> {
  const answer = await client.heartbeat({ serviceName: service, instanceId: id, loadPercentage: options.load, status: options.status }, { timeoutMs: CALL_TIMEOUT_MS });
  if (json) return printJson(out, HeartbeatResponseSchema, answer);
  const instance = answer.instance!;
  out.line(`heartbeat ${service}/${id}: ${statusText(out, instance.status)}, load ${loadText(out, instance)}, lease ${seconds(instance.ttl === undefined ? 0 : durationToMs(instance.ttl))}`);
}

/** Probes the instance now (it must have a health check) and prints the result. */
export async function checkNow({ client, out, json }: CommandContext, service: string, id: string): Promise<void> {
  const answer = await client.checkNow({ serviceName: service, instanceId: id }, { timeoutMs: CALL_TIMEOUT_MS });
  if (json) return printJson(out, CheckNowResponseSchema, answer);
  const result = answer.result!;
  const parts = [`${service}/${id}: ${outcomeText(out, result.outcome)}`, `in ${latencyText(result.latency)}`, `now ${statusText(out, answer.instance!.status)}`];
  if (result.error !== "") parts.push(`(${safeText(result.error)})`);
  out.line(parts.join(", "));
}

/** The instance's recent probe results, newest last, with its uptime and average latency. */
export async function history({ client, out, json }: CommandContext, service: string, id: string): Promise<void> {
  const answer = await client.getHealthHistory({ serviceName: service, instanceId: id }, { timeoutMs: CALL_TIMEOUT_MS });
  if (json) return printJson(out, GetHealthHistoryResponseSchema, answer);
  if (answer.results.length === 0) return out.line(`no probe results for ${service}/${id} (it has no health check, or none ran yet)`);
  const rows = [["TIME", "OUTCOME", "LATENCY", "LOAD", "ERROR"].map((h) => out.paint(h, "bold"))];
  for (const r of answer.results) rows.push(resultRow(out, r));
  for (const line of table(rows)) out.line(line);
  out.line(`uptime ${Math.round(answer.uptime * 1000) / 10}%, average latency ${latencyText(answer.latencyAverage)}`);
}

function resultRow(out: Output, r: HealthCheckResult): string[] {
  const time = r.time === undefined ? "-" : new Date(timestampMs(r.time)).toISOString().slice(11, 23);
  const load = r.loadPercentage === undefined ? "-" : `${Math.round(r.loadPercentage * 100)}%`;
  return [time, outcomeText(out, r.outcome), latencyText(r.latency), load, safeText(r.error || "-")];
}

function outcomeText(out: Output, outcome: ProbeOutcome): string {
  switch (outcome) {
    case ProbeOutcome.PASS:
      return out.paint("pass", "green");
    case ProbeOutcome.DEGRADED:
      return out.paint("degraded", "yellow");
    case ProbeOutcome.FAIL:
      return out.paint("fail", "red");
    default:
      return out.paint("unknown", "gray");
  }
}

function latencyText(latency: Duration | undefined): string {
  return latency === undefined ? "-" : `${Math.round(durationToMs(latency) * 10) / 10}ms`;
}

function seconds(ms: number): string {
  return `${Math.round(ms) / 1000}s`;
}
