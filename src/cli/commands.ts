// The client commands: services, instances, watch, register and unregister.
// Each prints for people by default and, with --json, the API's own JSON
// (proto3 JSON, as Connect and grpcurl print it) for scripts.
import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  ListHealthyResponseSchema,
  ListInstancesResponseSchema,
  ListServicesResponseSchema,
  RegisterResponseSchema,
  WatchEventSchema,
  type ListHealthyResponse,
  type ListInstancesResponse,
} from "../../gen/discovery/v1/discovery_pb";
import type { Output } from "./output";
import { safeJson, safeText, table } from "./output";
import { ago, eventLine, loadText, statusText } from "./instance-text";
import { CALL_TIMEOUT_MS, type RegistryClient } from "./registry-client";
import type { DiscoveryConnection } from "../client/connection";
import { watch as followWatch } from "../client/watch";
import { sleep } from "../common/sleep";

export interface CommandContext {
  client: RegistryClient;
  connection: DiscoveryConnection;
  /** Where notes that are not results go (stderr with --json, so stdout stays JSON). */
  note: Output;
  out: Output;
  json: boolean;
  signal: AbortSignal;
}

function printJson<S extends DescMessage>(out: Output, schema: S, message: MessageShape<S>): void {
  out.line(safeJson(toJson(schema, message)));
}

export async function listServices({ client, out, json }: CommandContext): Promise<void> {
  const answer = await client.listServices({}, { timeoutMs: CALL_TIMEOUT_MS });
  if (json) return printJson(out, ListServicesResponseSchema, answer);
  if (answer.services.length === 0) return out.line("no services registered");
  const rows = [["SERVICE", "INSTANCES", "HEALTHY", "CRITICAL", "AVG LOAD"].map((h) => out.paint(h, "bold"))];
  for (const s of answer.services) {
    const healthy = s.healthyCount === s.instanceCount ? out.paint(String(s.healthyCount), "green") : out.paint(String(s.healthyCount), "yellow");
    const critical = s.criticalLoadCount > 0 ? out.paint(String(s.criticalLoadCount), "red") : "0";
    rows.push([safeText(s.serviceName), String(s.instanceCount), healthy, critical, `${Math.round(s.averageLoad * 100)}%`]);
  }
  for (const line of table(rows)) out.line(line);
}

export interface InstancesOptions {
  healthy: boolean;
  excludeCritical: boolean;
}

export async function listInstances({ client, out, json }: CommandContext, service: string, options: InstancesOptions): Promise<void> {
  let answer: ListHealthyResponse | ListInstancesResponse;
  if (options.healthy || options.excludeCritical) {
    const healthy = await client.listHealthy({ serviceName: service, excludeCriticalLoad: options.excludeCritical }, { timeoutMs: CALL_TIMEOUT_MS });
    if (json) return printJson(out, ListHealthyResponseSchema, healthy);
    answer = healthy;
  } else {
    answer = await client.listInstances({ serviceName: service }, { timeoutMs: CALL_TIMEOUT_MS });
    if (json) return printJson(out, ListInstancesResponseSchema, answer);
  }
  if (answer.instances.length === 0) return out.line(`no instances of ${safeText(service)}`);
  const now = Date.now();
  const rows = [["INSTANCE", "ADDRESS", "STATUS", "LOAD", "LAST HEARTBEAT", "METADATA"].map((h) => out.paint(h, "bold"))];
  for (const i of answer.instances) {
    const metadata = Object.entries(i.metadata).map(([k, v]) => `${safeText(k)}=${safeText(v)}`).join(",");
    rows.push([safeText(i.instanceId), `${safeText(i.host)}:${i.port}`, statusText(out, i.status), loadText(out, i), ago(i.lastHeartbeat, now), metadata]);
  }
  for (const line of table(rows)) out.line(line);
}

export interface WatchOptions {
  since: bigint;
}

/**
 * Streams events until the signal aborts (Ctrl-C, SIGTERM). When the stream
 * breaks it reconnects with backoff (to the next --addr at once) and resumes
 * after the last revision it printed, saying so on one line.
 */
export async function watch({ connection, out, note, json, signal }: CommandContext, services: string[], options: WatchOptions): Promise<void> {
  const events = followWatch({
    url: connection.url,
    connection,
    services,
    sinceRevision: options.since,
    signal,
    onDisconnect: (error) => note.line(`connection lost (${safeText(error instanceof Error ? error.message : String(error))}); reconnecting`),
    onReconnect: ({ url, sinceRevision }) =>
      note.line(sinceRevision > 0n ? `reconnected to ${url}, resuming after revision ${sinceRevision}` : `reconnected to ${url}, starting from a snapshot`),
  });
  for await (const event of events) {
    out.line(json ? safeJson(toJson(WatchEventSchema, event)) : eventLine(out, event));
  }
}

export interface RegisterOptions {
  id: string;
  ttl: number | undefined;
  load: number | undefined;
  meta: Record<string, string>;
  healthEndpoint: string;
  keepAlive: boolean;
}

/**
 * Registers once; with keepAlive, heartbeats at the interval the server asks for
 * (re-registering if the lease was lost) and unregisters when the signal aborts.
 */
export async function register(ctx: CommandContext, service: string, host: string, port: number, options: RegisterOptions): Promise<void> {
  const { client, out, json, signal } = ctx;
  const request = {
    serviceName: service,
    instanceId: options.id,
    host,
    port,
    metadata: options.meta,
    healthEndpoint: options.healthEndpoint,
    ttl: options.ttl === undefined ? undefined : { seconds: BigInt(Math.floor(options.ttl)), nanos: Math.round((options.ttl % 1) * 1e9) },
    loadPercentage: options.load,
  };
  const answer = await client.register(request, { timeoutMs: CALL_TIMEOUT_MS });
  const instance = answer.instance!;
  const intervalMs = Number(answer.heartbeatInterval?.seconds ?? 10n) * 1000 + (answer.heartbeatInterval?.nanos ?? 0) / 1e6;
  if (json) printJson(out, RegisterResponseSchema, answer);
  else out.line(`registered ${safeText(instance.serviceName)}/${safeText(instance.instanceId)} at ${safeText(instance.host)}:${instance.port} (${statusText(out, instance.status)}, ttl ${instance.ttl?.seconds ?? "?"}s)`);
  if (!options.keepAlive) return;
  if (!json) out.line(`heartbeating every ${intervalMs / 1000}s; Ctrl-C unregisters`);
  const key = { serviceName: instance.serviceName, instanceId: instance.instanceId };
  while (!signal.aborted) {
    await sleep(intervalMs, { signal });
    if (signal.aborted) break;
    try {
      await client.heartbeat(key, { timeoutMs: CALL_TIMEOUT_MS });
    } catch (error) {
      if (signal.aborted) break;
      // The lease is gone (expired or the registry restarted): take it again.
      await client.register({ ...request, instanceId: instance.instanceId }, { timeoutMs: CALL_TIMEOUT_MS });
      if (!json) out.line(`lease lost (${safeText(error instanceof Error ? error.message : String(error))}); registered again`);
    }
  }
  await client.unregister(key, { timeoutMs: CALL_TIMEOUT_MS });
  if (!json) out.line(`unregistered ${safeText(instance.serviceName)}/${safeText(instance.instanceId)}`);
}

export async function unregister({ client, out, json }: CommandContext, service: string, id: string): Promise<void> {
  await client.unregister({ serviceName: service, instanceId: id }, { timeoutMs: CALL_TIMEOUT_MS });
  out.line(json ? "{}" : `unregistered ${safeText(service)}/${safeText(id)}`);
}
