// How ADS messages cross the gRPC transports, on the push path of every xDS
// stream. Responses: the resources are encoded once and shared by every stream
// that sends the same resources array (streams with one subscription share it,
// see resource-sets.ts); each stream adds only its version and nonce. The bytes
// are those protobuf-es writes (fields in number order, empty ones left out).
// Requests: an ACK carries only ASCII strings, read by hand. Anything else
// goes through protobuf-es.
import { create, isMessage } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { AggregatedDiscoveryService } from "../../../gen/envoy/service/discovery/v3/ads_pb";
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryRequest } from "../../../gen/envoy/service/discovery/v3/discovery_pb";
import { frameBytes, protobufCodec, type MessageCodec, type ServiceCodecs } from "../../transport/codec";
import { varintSize, writeVarint } from "../../transport/varint";
import type { DiscoveryResponseInit } from "./ads-stream";
import { TYPE_URLS } from "./resources";

// Tags: field number << 3 | wire type 2 (length-delimited).
const VERSION_INFO = 0x0a;
const RESOURCES = 0x12;
const TYPE_URL = 0x22;
const NONCE = 0x2a;
/** In a DiscoveryRequest: resource_names (3). Fields 1, 4 and 5 share the response's tags. */
const RESOURCE_NAMES = 0x1a;
const ANY_TYPE_URL = 0x0a;
const ANY_VALUE = 0x12;

/** The codecs of AggregatedDiscoveryService's StreamAggregatedResources. */
export function createAdsCodecs(): ServiceCodecs<typeof AggregatedDiscoveryService> {
  return { streamAggregatedResources: { request: discoveryRequestCodec(), response: discoveryResponseCodec() } };
}

/**
 * Decodes version_info (1), resource_names (3), type_url (4) and response_nonce
 * (5) by hand when they are all ASCII, as every ACK we have seen is; a request
 * with any other field, other bytes, or anything malformed goes to protobuf-es,
 * which decodes it (validating UTF-8) or says what is wrong.
 */
export function discoveryRequestCodec(): MessageCodec {
  const generic = protobufCodec(DiscoveryRequestSchema);
  return { ...generic, decode: (bytes) => decodeAsciiRequest(bytes) ?? generic.decode(bytes) };
}

function decodeAsciiRequest(bytes: Uint8Array): DiscoveryRequest | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let versionInfo = "";
  let typeUrl = "";
  let responseNonce = "";
  const resourceNames: string[] = [];
  let at = 0;
  while (at < text.length) {
    const tag = text[at++]!;
    // A length below 2^14: one or two varint bytes.
    let length = text[at++];
    if (length === undefined) return undefined;
    if (length >= 0x80) {
      const high = text[at++];
      if (high === undefined || high >= 0x80) return undefined;
      length = (length & 0x7f) | (high << 7);
    }
    const end = at + length;
    if (end > text.length) return undefined;
    for (let i = at; i < end; i++) if (text[i]! >= 0x80) return undefined;
    const value = text.toString("latin1", at, end);
    at = end;
    if (tag === VERSION_INFO) versionInfo = value;
    else if (tag === RESOURCE_NAMES) resourceNames.push(value);
    else if (tag === TYPE_URL) typeUrl = value;
    else if (tag === NONCE) responseNonce = value;
    else return undefined;
  }
  // The shape protobuf-es gives the same bytes (test/unit/ads-codecs.test.ts compares them).
  return { $typeName: DiscoveryRequestSchema.typeName, versionInfo, resourceNames, resourceLocators: [], typeUrl, responseNonce } as DiscoveryRequest;
}

export function discoveryResponseCodec(): MessageCodec {
  const generic = protobufCodec(DiscoveryResponseSchema);
  // By identity: a resource's field bytes, and a resources array's block of them. Weak, so they go with the resources.
  const resourceBytes = new WeakMap<Any, Buffer>();
  const blocks = new WeakMap<readonly Any[], Buffer>();
  const resourceField = (resource: Any) => {
    let bytes = resourceBytes.get(resource);
    if (bytes === undefined) resourceBytes.set(resource, (bytes = lengthDelimited(RESOURCES, anyBytes(resource))));
    return bytes;
  };
  const block = (resources: readonly Any[]) => {
    let bytes = blocks.get(resources);
    if (bytes === undefined) blocks.set(resources, (bytes = Buffer.concat(resources.map(resourceField))));
    return bytes;
  };
  // Few: only the types we serve are kept.
  const typeUrls = new Map<string, Buffer>();
  const typeUrlField = (typeUrl: string) => {
    let bytes = typeUrls.get(typeUrl);
    if (bytes === undefined) {
      bytes = stringField(TYPE_URL, typeUrl);
      if ((TYPE_URLS as readonly string[]).includes(typeUrl)) typeUrls.set(typeUrl, bytes);
    }
    return bytes;
  };
  const frame = (value: unknown): Buffer => {
    const message = value as DiscoveryResponseInit;
    // Our streams hand over message inits; protobuf-es wants a message.
    if (message.canary === true || message.controlPlane !== undefined) return frameBytes(generic.encode(isMessage(message, DiscoveryResponseSchema) ? message : create(DiscoveryResponseSchema, message)));
    const body = block((message.resources ?? []) as readonly Any[]);
    const typeUrl = typeUrlField(message.typeUrl ?? "");
    // Version and nonce are this stream's own: written straight into the frame.
    const version = message.versionInfo ?? "";
    const nonce = message.nonce ?? "";
    const length = stringFieldLength(version) + body.length + typeUrl.length + stringFieldLength(nonce);
    const out = Buffer.allocUnsafe(5 + length);
    out[0] = 0;
    out.writeUInt32BE(length, 1);
    let at = writeStringField(out, 5, VERSION_INFO, version);
    at += body.copy(out, at);
    at += typeUrl.copy(out, at);
    writeStringField(out, at, NONCE, nonce);
    return out;
  };
  return { frame, encode: (message) => frame(message).subarray(5), decode: generic.decode };
}

/** google.protobuf.Any's bytes: type_url (1), value (2), each left out when empty. */
function anyBytes(resource: Any): Buffer {
  const value = resource.value ?? new Uint8Array(0);
  const typeUrl = stringField(ANY_TYPE_URL, resource.typeUrl);
  return value.length === 0 ? typeUrl : Buffer.concat([typeUrl, lengthDelimited(ANY_VALUE, value)]);
}

const EMPTY = Buffer.alloc(0);

/** A string field, or nothing when it is empty (proto3). */
function stringField(tag: number, value: string | undefined): Buffer {
  if (value === undefined || value === "") return EMPTY;
  return lengthDelimited(tag, Buffer.from(value, "utf8"));
}

function stringFieldLength(value: string): number {
  if (value === "") return 0;
  const length = Buffer.byteLength(value, "utf8");
  return 1 + varintSize(length) + length;
}

function writeStringField(out: Buffer, at: number, tag: number, value: string): number {
  if (value === "") return at;
  out[at++] = tag;
  at = writeVarint(out, at, Buffer.byteLength(value, "utf8"));
  return at + out.write(value, at, "utf8");
}

function lengthDelimited(tag: number, bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + varintSize(bytes.length) + bytes.length);
  out[0] = tag;
  out.set(bytes, writeVarint(out, 1, bytes.length));
  return out;
}
