// GET /v1/watch?service=users&since=REV: the Watch stream as Server-Sent Events,
// for curl and the browser's EventSource. It runs the Watch handler itself (same
// authorizer, hub, RESET and slow-consumer rules): one proto3-JSON WatchEvent per
// `data:` line, `id:` = revision, so a reconnect's Last-Event-ID resumes.
import { once } from "node:events";
import type * as http from "node:http";
import { create, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "pino";
import { EventType, WatchEventSchema, WatchRequestSchema, type WatchEvent, type WatchRequest } from "../../gen/discovery/v1/discovery_pb";
import type { CallContext } from "../transport/contract";
import { peerContextValues } from "../transport/peer-identity";
import { NO_SHUTDOWN } from "../transport/no-shutdown";

/** The route. */
export const WATCH_EVENTS_PATH = "/v1/watch";
/** A comment line this often keeps idle streams open through proxies that time out silence. */
export const SSE_PING_INTERVAL_MS = 15_000;
/** What EventSource waits before reconnecting (the SSE `retry:` field). */
export const SSE_RETRY_MS = 1_000;
/** Services one request may name (each a `service=` parameter). */
export const SSE_MAX_SERVICES = 64;
/** The reason of the RESET that opens a stream starting from a snapshot (see below). */
export const FRESH_START_REASON = "fresh-start";

type WatchHandler = (request: WatchRequest, context: CallContext) => AsyncIterable<unknown>;
type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface WatchEventsOptions {
  /** The service's Watch handler, as mounted on the other transports (with its auth and error mapping). */
  watch: WatchHandler;
  next: Handler;
  logger: Logger;
  pingIntervalMs?: number;
  /** The server's shutdown, handed to the Watch handler as `CallContext.shutdownSignal`. */
  shutdownSignal?: AbortSignal;
}

export function createWatchEvents(options: WatchEventsOptions): Handler {
  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://registry");
    if (url.pathname !== WATCH_EVENTS_PATH || request.method !== "GET") return options.next(request, response);
    let parsed: { services: string[]; since: bigint };
    try {
      parsed = parseRequest(url, request.headers["last-event-id"]);
    } catch (error) {
      return sendError(response, ConnectError.from(error));
    }
    stream(options, request, response, parsed).catch((error: unknown) => {
      options.logger.error({ err: error }, "watch events stream failed");
      response.destroy();
    });
  };
}

/** `service` (repeatable) and `since`; a Last-Event-ID header (an EventSource reconnect) wins over `since`. */
function parseRequest(url: URL, lastEventId: string | string[] | undefined): { services: string[]; since: bigint } {
  const services = url.searchParams.getAll("service");
  if (services.length > SSE_MAX_SERVICES) {
    throw new ConnectError(`service: at most ${SSE_MAX_SERVICES} services per request`, Code.InvalidArgument);
  }
  const resume = typeof lastEventId === "string" && lastEventId !== "" ? { field: "Last-Event-ID", value: lastEventId } : { field: "since", value: url.searchParams.get("since") ?? "0" };
  if (!/^\d{1,20}$/.test(resume.value) || BigInt(resume.value) >= 2n ** 64n) {
    throw new ConnectError(`${resume.field}: must be a revision (a whole number), got ${JSON.stringify(resume.value.slice(0, 40))}`, Code.InvalidArgument);
  }
  return { services, since: BigInt(resume.value) };
}

async function stream(options: WatchEventsOptions, request: http.IncomingMessage, response: http.ServerResponse, parsed: { services: string[]; since: bigint }): Promise<void> {
  const controller = new AbortController();
  const onClose = () => controller.abort();
  response.once("close", onClose);
  const requestHeader = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") requestHeader.set(name, value);
  }
  const events = options.watch(create(WatchRequestSchema, { serviceNames: parsed.services, sinceRevision: parsed.since }), {
    signal: controller.signal,
    requestHeader,
    // A TLS client certificate's identity, which the tokens file may name.
    values: peerContextValues(request.socket),
    // Server-Sent Events carry no gRPC metadata; the Watch handler sets none.
    responseHeader: new Headers(),
    responseTrailer: new Headers(),
    shutdownSignal: options.shutdownSignal ?? NO_SHUTDOWN,
  })[Symbol.asyncIterator]();
  let ping: NodeJS.Timeout | undefined;
  try {
    // The first item comes at once (a snapshot or replay ends with SYNCED); a
    // refusal (bad service name, secret, too many watchers) is an HTTP error.
    let first: IteratorResult<unknown>;
    try {
      first = await events.next();
    } catch (error) {
      return sendError(response, ConnectError.from(error));
    }
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    // Starting without a revision means a snapshot: it opens with a RESET so that
    // a client which EventSource reconnected from scratch drops what it holds.
    let out = `retry: ${SSE_RETRY_MS}\n\n`;
    if (parsed.since === 0n) out += frame(create(WatchEventSchema, { type: EventType.RESET, revision: 0n, reason: FRESH_START_REASON }));
    response.write(out);
    ping = setInterval(() => response.write(": ping\n\n"), options.pingIntervalMs ?? SSE_PING_INTERVAL_MS);
    ping.unref();
    for (let next = first; next.done !== true; next = await events.next()) {
      // Waiting for the socket leaves events queued in the subscription, whose
      // bound (WATCH_QUEUE_LIMIT) turns a slow reader into a RESET, as on gRPC.
      if (!response.write(frame(next.value as WatchEvent))) {
        await Promise.race([once(response, "drain"), once(response, "close")]);
      }
      if (controller.signal.aborted) return;
    }
    response.end();
  } catch (error) {
    if (controller.signal.aborted) return;
    // The stream ended with an error (shutdown: UNAVAILABLE): say so, then end.
    response.end(`event: error\ndata: ${JSON.stringify(errorToJson(ConnectError.from(error), undefined))}\n\n`);
  } finally {
    clearInterval(ping);
    response.removeListener("close", onClose);
    controller.abort();
    void events.return?.();
  }
}

/**
 * One event. Live events and SYNCED carry `id:` (their revision: resuming there
 * misses nothing); a RESET clears it (empty `id:`), and SNAPSHOT events leave
 * it as is, so a reconnect in the middle of a snapshot starts over.
 */
function frame(event: WatchEvent): string {
  const data = `data: ${JSON.stringify(toJson(WatchEventSchema, event))}\n`;
  switch (event.type) {
    case EventType.SNAPSHOT:
      return `${data}\n`;
    case EventType.RESET:
      return `id:\n${data}\n`;
    default:
      return `id: ${event.revision}\n${data}\n`;
  }
}

function sendError(response: http.ServerResponse, error: ConnectError): void {
  response.writeHead(codeToHttpStatus(error.code), { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" });
  response.end(`${JSON.stringify(errorToJson(error, undefined))}\n`);
}
