// The REST/JSON routes of the registries we replace (seeds 001 and 003), on the
// HTTP/1.1 side of the one port. Each route calls the same DiscoveryService
// handler the RPCs use, so validation, auth and errors are the RPCs' own: the
// access table's rule per method, with the request's headers and TLS identity.
import { create, type JsonValue } from "@bufbuild/protobuf";
import type * as http from "node:http";
import type { Logger } from "pino";
import {
  DiscoveryService,
  HeartbeatRequestSchema,
  HeartbeatResponseSchema,
  ListHealthyResponseSchema,
  ListInstancesResponseSchema,
  ListServicesResponseSchema,
  RegisterRequestSchema,
  RegisterResponseSchema,
} from "../../../gen/discovery/v1/discovery_pb";
import type { CallContext, Handlers } from "../../transport/contract";
import { answerToJson, badInput, requestFromJson, restErrorOf } from "./rest-json";
import { readJsonBody } from "./body";
import { openApiDocument } from "./openapi";
import { peerContextValues } from "../../transport/peer-identity";
import { NO_SHUTDOWN } from "../../transport/no-shutdown";

type Discovery = Handlers<typeof DiscoveryService>;
type Answer = { status?: number; body: JsonValue };
type Route = {
  method: "GET" | "POST" | "DELETE";
  /** Path segments; ":name" captures one. */
  pattern: string;
  run: (call: RestCall) => Promise<Answer> | Answer;
};

/** One REST request as a route sees it: captured path parts, query, body, call context. */
export interface RestCall {
  params: Record<string, string>;
  query: URLSearchParams;
  body: () => Promise<unknown>;
  context: CallContext;
}

export interface RestRoutesOptions {
  /** The DiscoveryService handlers as the RPCs are served (auth and error mapping included). */
  discovery: Discovery;
  /** The server's own serving status, for GET /health. */
  serving: () => boolean;
  /** Where requests that match no route go. */
  next: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  logger: Logger;
  /** The server's shutdown, handed to the handlers as `CallContext.shutdownSignal`. */
  shutdownSignal?: AbortSignal;
}

const handlerOf = <K extends keyof Discovery>(discovery: Discovery, name: K): NonNullable<Discovery[K]> => {
  const handler = discovery[name];
  if (handler === undefined) throw new Error(`DiscoveryService.${String(name)} has no handler`);
  return handler;
};

function routesOf(options: RestRoutesOptions): Route[] {
  const d = options.discovery;
  const register = handlerOf(d, "register");
  const heartbeat = handlerOf(d, "heartbeat");
  const unregister = handlerOf(d, "unregister");
  const listInstances = handlerOf(d, "listInstances");
  const listHealthy = handlerOf(d, "listHealthy");
  const listServices = handlerOf(d, "listServices");

  const instancesOf = async (call: RestCall, healthyOnly: boolean): Promise<Answer> => {
    const serviceName = call.params.service_name!;
    const answer = healthyOnly
      ? answerToJson(
          ListHealthyResponseSchema,
          create(ListHealthyResponseSchema, await listHealthy({ $typeName: "discovery.v1.ListHealthyRequest", serviceName, excludeCriticalLoad: flag(call.query, "exclude_critical_load") }, call.context)),
        )
      : answerToJson(ListInstancesResponseSchema, create(ListInstancesResponseSchema, await listInstances({ $typeName: "discovery.v1.ListInstancesRequest", serviceName }, call.context)));
    const instances = (answer.instances ?? []) as JsonValue[];
    return { body: { service_name: serviceName, instances, count: instances.length, revision: answer.revision ?? "0" } };
  };
  const services = async (call: RestCall) =>
    answerToJson(ListServicesResponseSchema, create(ListServicesResponseSchema, await listServices({ $typeName: "discovery.v1.ListServicesRequest" }, call.context)));

  return [
    {
      method: "POST",
      pattern: "/v1/discovery/register",
      run: async (call) => ok(answerToJson(RegisterResponseSchema, create(RegisterResponseSchema, await register(requestFromJson(RegisterRequestSchema, await call.body()), call.context)))),
    },
    {
      method: "POST",
      pattern: "/v1/discovery/heartbeat",
      run: async (call) => ok(answerToJson(HeartbeatResponseSchema, create(HeartbeatResponseSchema, await heartbeat(requestFromJson(HeartbeatRequestSchema, await call.body()), call.context)))),
    },
    {
      method: "DELETE",
      pattern: "/v1/discovery/unregister/:service_name/:instance_id",
      run: async ({ params, context }) => {
        await unregister({ $typeName: "discovery.v1.UnregisterRequest", serviceName: params.service_name!, instanceId: params.instance_id! }, context);
        return { body: { service_name: params.service_name!, instance_id: params.instance_id!, unregistered: true } };
      },
    },
    { method: "GET", pattern: "/v1/discovery/services", run: async (call) => ok(await services(call)) },
    { method: "GET", pattern: "/v1/discovery/services/:service_name", run: (call) => instancesOf(call, false) },
    { method: "GET", pattern: "/v1/discovery/services/:service_name/healthy", run: (call) => instancesOf(call, true) },
    { method: "GET", pattern: "/services/:service_name", run: (call) => instancesOf(call, false) },
    {
      method: "GET",
      pattern: "/status",
      run: async (call) => {
        const { services: list = [], revision = "0" } = (await services(call)) as { services?: Array<Record<string, number>>; revision?: string };
        const sum = (key: string) => list.reduce((total, service) => total + (service[key] ?? 0), 0);
        return {
          body: {
            status: options.serving() ? "ok" : "shutting_down",
            service_count: list.length,
            instance_count: sum("instance_count"),
            healthy_count: sum("healthy_count"),
            critical_load_count: sum("critical_load_count"),
            revision,
          },
        };
      },
    },
    {
      method: "GET",
      pattern: "/health",
      run: () => (options.serving() ? { body: { status: "healthy" } } : { status: 503, body: { status: "shutting_down" } }),
    },
    { method: "GET", pattern: "/openapi.json", run: () => ({ body: openApiDocument() as unknown as JsonValue }) },
  ];
}

const ok = (body: JsonValue): Answer => ({ body });

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === "" || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw badInput(name, "must be true or false");
}

/** The HTTP/1.1 handler for the REST routes; anything else goes to `next`. */
export function createRestRoutes(options: RestRoutesOptions): (request: http.IncomingMessage, response: http.ServerResponse) => void {
  const shutdownSignal = options.shutdownSignal ?? NO_SHUTDOWN;
  const routes = routesOf(options).map((route) => ({ ...route, segments: route.pattern.split("/").slice(1) }));
  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const path = url.pathname.split("/").slice(1);
    const matched = routes.map((route) => ({ route, params: match(route.segments, path) })).filter((m) => m.params !== undefined);
    if (matched.length === 0) return options.next(request, response);
    const method = request.method === "HEAD" ? "GET" : request.method;
    const hit = matched.find((m) => m.route.method === method);
    if (hit === undefined) {
      const allow = [...new Set(matched.map((m) => m.route.method))].join(", ");
      return send(response, 405, { code: "method_not_allowed", message: `${request.method} is not allowed here; use ${allow}` }, { allow });
    }
    const signal = closedSignal(request, response);
    const call: RestCall = { params: hit.params!, query: url.searchParams, body: () => readJsonBody(request), context: { signal, requestHeader: headersOf(request), responseHeader: new Headers(), responseTrailer: new Headers(), values: peerContextValues(request.socket), shutdownSignal } };
    Promise.resolve()
      .then(() => hit.route.run(call))
      .then(
        (answer) => send(response, answer.status ?? 200, answer.body),
        (error: unknown) => {
          const { status, body } = restErrorOf(error);
          if (status >= 500) options.logger.error({ err: error, route: hit.route.pattern }, "rest route failed");
          send(response, status, body);
        },
      );
  };
}

function match(pattern: readonly string[], path: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = path[i]!;
    if (want.startsWith(":")) {
      if (got === "") return undefined;
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return undefined;
      }
    } else if (want !== got) return undefined;
  }
  return params;
}

function headersOf(request: http.IncomingMessage): Headers {
  const headers = new Headers();
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header the fetch Headers class refuses is one no handler reads.
    }
  }
  return headers;
}

/** Aborts when the client goes away before the answer is sent. */
function closedSignal(request: http.IncomingMessage, response: http.ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  request.once("error", () => controller.abort());
  return controller.signal;
}

function send(response: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body) + "\n";
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-cache", ...extra });
  response.end(response.req?.method === "HEAD" ? undefined : text);
}
