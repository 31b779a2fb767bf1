// The OpenAPI 3.1 document of the REST routes, served at /openapi.json. The
// request bodies are the RPCs' request messages in snake_case; the proto file
// stays the one source of the API's shape, this only describes the routes.

const json = (schema: object) => ({ content: { "application/json": { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  "400": { description: "Bad input; `field` names the field at fault", ...json(ref("Error")) },
  "401": { description: "Missing or wrong bearer token (only when SERVICE_DISCOVERY_SECRET is set)", ...json(ref("Error")) },
};
const pathParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });
const instanceList = { description: "The service's instances", ...json(ref("InstanceList")) };

const STATUS = { type: "string", enum: ["unknown", "healthy", "degraded", "unhealthy", "draining"] };

let cached: object | undefined;

/** Built once, on first request: nothing runs at import time. */
export function openApiDocument(): object {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "grpc-discovery REST routes",
      version: "1",
      description: "The REST/JSON routes of the registries grpc-discovery replaces. Each maps onto a discovery.v1.DiscoveryService RPC: same validation, same auth, errors as HTTP statuses.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message"],
          properties: { code: { type: "string", examples: ["invalid_argument", "not_found", "unauthenticated"] }, message: { type: "string" }, field: { type: "string" } },
        },
        Instance: {
          type: "object",
          properties: {
            service_name: { type: "string" },
            instance_id: { type: "string" },
            host: { type: "string" },
            port: { type: "integer" },
            health_endpoint: { type: "string" },
            metadata: { type: "object", additionalProperties: { type: "string" } },
            status: STATUS,
            load_percentage: { type: "number", minimum: 0, maximum: 1 },
            critical_load: { type: "boolean" },
            registered_at: { type: "string", format: "date-time" },
            last_heartbeat: { type: "string", format: "date-time" },
            ttl: { type: "string", examples: ["30s"] },
          },
        },
        InstanceList: {
          type: "object",
          properties: { service_name: { type: "string" }, instances: { type: "array", items: ref("Instance") }, count: { type: "integer" }, revision: { type: "string" } },
        },
        RegisterRequest: {
          type: "object",
          required: ["service_name", "host", "port"],
          properties: {
            service_name: { type: "string" },
            instance_id: { type: "string", description: "Empty or absent: the server assigns a UUID" },
            host: { type: "string" },
            port: { type: "integer", minimum: 1, maximum: 65535 },
            health_endpoint: { type: "string", examples: ["/health"] },
            metadata: { type: "object", additionalProperties: { type: "string" } },
            load_percentage: { type: "number", minimum: 0, maximum: 1 },
            ttl: { type: "string", examples: ["30s"] },
          },
        },
        HeartbeatRequest: {
          type: "object",
          required: ["service_name", "instance_id"],
          properties: { service_name: { type: "string" }, instance_id: { type: "string" }, load_percentage: { type: "number", minimum: 0, maximum: 1 }, status: STATUS },
        },
      },
    },
    paths: {
      "/v1/discovery/register": {
        post: {
          summary: "Register an instance (DiscoveryService.Register)",
          security: [{ bearer: [] }],
          requestBody: { required: true, ...json(ref("RegisterRequest")) },
          responses: { "200": { description: "The instance and how often to heartbeat", ...json({ type: "object", properties: { instance: ref("Instance"), heartbeat_interval: { type: "string" } } }) }, "413": { description: "Body over REST_MAX_BODY_BYTES" }, ...errors },
        },
      },
      "/v1/discovery/heartbeat": {
        post: {
          summary: "Renew a lease, optionally reporting load (DiscoveryService.Heartbeat)",
          security: [{ bearer: [] }],
          requestBody: { required: true, ...json(ref("HeartbeatRequest")) },
          responses: { "200": { description: "The instance", ...json({ type: "object", properties: { instance: ref("Instance") } }) }, "404": { description: "Unknown instance: register again", ...json(ref("Error")) }, ...errors },
        },
      },
      "/v1/discovery/unregister/{service_name}/{instance_id}": {
        delete: {
          summary: "Remove an instance (DiscoveryService.Unregister)",
          security: [{ bearer: [] }],
          parameters: [pathParam("service_name"), pathParam("instance_id")],
          responses: { "200": { description: "Removed" }, "404": { description: "Unknown instance", ...json(ref("Error")) }, ...errors },
        },
      },
      "/v1/discovery/services": { get: { summary: "Summaries of every service (DiscoveryService.ListServices)", responses: { "200": { description: "services and revision" } } } },
      "/v1/discovery/services/{service_name}": {
        get: { summary: "Every instance of a service (DiscoveryService.ListInstances)", parameters: [pathParam("service_name")], responses: { "200": instanceList, ...errors } },
      },
      "/v1/discovery/services/{service_name}/healthy": {
        get: {
          summary: "Healthy and degraded instances (DiscoveryService.ListHealthy)",
          parameters: [pathParam("service_name"), { name: "exclude_critical_load", in: "query", schema: { type: "boolean" } }],
          responses: { "200": instanceList, ...errors },
        },
      },
      "/services/{service_name}": { get: { summary: "Seed 001's form of ListInstances", parameters: [pathParam("service_name")], responses: { "200": instanceList, ...errors } } },
      "/status": { get: { summary: "Counts over the whole registry", responses: { "200": { description: "status, service_count, instance_count, healthy_count, critical_load_count, revision" } } } },
      "/health": { get: { summary: "The registry's own health", responses: { "200": { description: '{"status":"healthy"}' }, "503": { description: "Shutting down" } } } },
    },
  };
  return cached;
}
