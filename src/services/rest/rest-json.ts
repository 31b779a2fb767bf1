// The REST routes' JSON: requests in the seeds' snake_case read into the same
// protobuf requests the RPCs take, answers written back in snake_case, and every
// error as an HTTP status with a body naming the field at fault.
import { fromJson, toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { DiscoveryError } from "../../core/errors";
import { toConnectError } from "../middleware/error-map";
import { codeName } from "../../transport/code-names";

/** The HTTP status of each gRPC code, as the Connect protocol maps them. */
const HTTP_STATUS_OF: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** A REST error: its HTTP status and the JSON body `{code, message, field?}`. */
export interface RestError {
  status: number;
  body: { code: string; message: string; field?: string };
}

/** A refusal that only HTTP has a status for (413: body too large). */
export class HttpRefusal extends Error {
  override readonly name = "HttpRefusal";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Any error a handler raised, in the same codes and messages the RPCs send. */
export function restErrorOf(error: unknown): RestError {
  if (error instanceof HttpRefusal) return { status: error.status, body: { code: error.code, message: error.message, field: error.field } };
  const wire = toConnectError(error);
  const field = wire.cause instanceof DiscoveryError ? wire.cause.field : undefined;
  const body: RestError["body"] = { code: codeName(wire.code).toLowerCase(), message: wire.rawMessage };
  if (field !== undefined) body.field = field;
  return { status: HTTP_STATUS_OF[wire.code] ?? 500, body };
}

/** A 400 naming the field, for input that never reached a handler. */
export function badInput(field: string, rule: string): DiscoveryError {
  return new DiscoveryError("invalid-argument", `${field}: ${rule}`, field);
}

/** Statuses on the REST side are the short lower-case names the seeds use ("healthy"). */
const STATUS_PREFIX = "HEALTH_STATUS_";

/**
 * Reads a JSON object body into a request message. Keys are the proto field
 * names (snake_case; camelCase is accepted too); an unknown key or a value of
 * the wrong type is a 400 naming that field.
 */
export function requestFromJson<D extends DescMessage>(schema: D, json: unknown): MessageShape<D> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw badInput("body", "must be a JSON object");
  const object = { ...(json as Record<string, JsonValue>) };
  const known = new Set(schema.fields.flatMap((field) => [field.name, field.jsonName]));
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw badInput(key, "is not a field of this request");
  }
  // fromJson would drop a map key "__proto__" silently; refused as over gRPC.
  for (const field of schema.fields) {
    if (field.fieldKind !== "map") continue;
    const map = object[field.name] ?? object[field.jsonName];
    if (map !== null && typeof map === "object" && Object.hasOwn(map, "__proto__")) throw badInput(`${field.name}["__proto__"]`, "key is reserved");
  }
  // Accept the REST spelling of a status ("degraded") as well as the enum name.
  if (typeof object.status === "string" && !object.status.startsWith(STATUS_PREFIX)) {
    object.status = STATUS_PREFIX + object.status.toUpperCase();
  }
  try {
    return fromJson(schema, object);
  } catch (error) {
    const field = locateBadField(schema, object, "") ?? "body";
    throw badInput(field, `cannot be read: ${(error as Error).message}`);
  }
}

/**
 * The path ("health_check.interval") of the first value protobuf-es refuses,
 * found by decoding one field at a time: its own errors name a message type at
 * best, not where in the request the value sits.
 */
function locateBadField(schema: DescMessage, json: Record<string, JsonValue>, prefix: string): string | undefined {
  for (const [key, value] of Object.entries(json)) {
    const field = schema.fields.find((f) => f.name === key || f.jsonName === key);
    if (field === undefined) return prefix + key;
    try {
      fromJson(schema, { [key]: value });
    } catch {
      const nested = field.fieldKind === "message" && !field.message.typeName.startsWith("google.protobuf.");
      if (nested && typeof value === "object" && value !== null && !Array.isArray(value)) {
        return locateBadField(field.message, value, `${prefix}${field.name}.`) ?? prefix + field.name;
      }
      return prefix + field.name;
    }
  }
  return undefined;
}

/** An answer message as snake_case JSON, statuses in their short form. */
export function answerToJson<D extends DescMessage>(schema: D, message: MessageShape<D>): Record<string, JsonValue> {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true }) as Record<string, JsonValue>;
  return shortStatuses(json) as Record<string, JsonValue>;
}

function shortStatuses(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(shortStatuses);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, JsonValue> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      (key === "status" || key === "previous_status") && typeof inner === "string" && inner.startsWith(STATUS_PREFIX)
        ? inner.slice(STATUS_PREFIX.length).toLowerCase()
        : shortStatuses(inner);
  }
  return out;
}
