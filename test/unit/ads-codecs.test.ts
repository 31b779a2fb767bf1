// The ADS codecs on the push path: responses framed from shared resource bytes
// are byte for byte what protobuf-es writes, and each resources array is
// encoded once; ACKs read by hand decode as protobuf-es decodes them, and
// anything else still goes through protobuf-es.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryRequest } from "../../gen/envoy/service/discovery/v3/discovery_pb";
import { discoveryRequestCodec, discoveryResponseCodec } from "../../src/services/xds/ads-codecs";
import { clusterResource, endpointResource, listenerResource, TYPE } from "../../src/services/xds/resources";

const protobufFrame = (init: Parameters<typeof create<typeof DiscoveryResponseSchema>>[1]) => {
  const bytes = toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, init));
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
};

const manyEndpoints = endpointResource(
  "users",
  [{ region: "eu", zone: "a", endpoints: Array.from({ length: 300 }, (_, i) => ({ instanceId: `i-${i}`, ip: `10.0.${i >> 8}.${i & 255}`, port: 8000 + i, health: "healthy" as const, weight: 1 + (i % 100) })) }],
);

test.each([
  ["one endpoint assignment", { versionInfo: "42", typeUrl: TYPE.endpoint, nonce: "7", resources: [endpointResource("users", [])] }],
  ["listener and cluster, a non-ASCII nonce", { versionInfo: "1", typeUrl: TYPE.listener, nonce: "ñ-1", resources: [listenerResource("a"), clusterResource("b", "ROUND_ROBIN")] }],
  ["no resources, empty version (does-not-exist)", { versionInfo: "", typeUrl: TYPE.cluster, nonce: "3", resources: [] }],
  ["a body past 16 KiB (multi-byte lengths)", { versionInfo: "9007199254740991", typeUrl: TYPE.endpoint, nonce: "123456", resources: [manyEndpoints, manyEndpoints] }],
  ["an Any with an empty value", { versionInfo: "5", typeUrl: TYPE.endpoint, nonce: "1", resources: [{ $typeName: "google.protobuf.Any", typeUrl: TYPE.endpoint, value: new Uint8Array(0) } as Any] }],
])("a response (%s) is framed with the bytes protobuf-es writes", (_name, init) => {
  expect(discoveryResponseCodec().frame(init)).toEqual(protobufFrame(init));
});

test("a response with a field the sharing encoder does not write goes through protobuf-es", () => {
  const init = { versionInfo: "1", typeUrl: TYPE.endpoint, nonce: "1", canary: true, controlPlane: { identifier: "us" }, resources: [] };
  expect(discoveryResponseCodec().frame(init)).toEqual(protobufFrame(init));
});

test("a resources array is encoded once: streams sending it again get the bytes of its first framing, with their own version and nonce", () => {
  const codec = discoveryResponseCodec();
  const shared = [endpointResource("users", [])];
  const first = codec.frame({ versionInfo: "1", typeUrl: TYPE.endpoint, nonce: "1", resources: shared });
  // Not something the server does: it shows the bytes come from the first encoding, not from the objects again.
  shared[0] = anyPack(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: "changed" }));
  const second = fromBinary(DiscoveryResponseSchema, codec.frame({ versionInfo: "2", typeUrl: TYPE.endpoint, nonce: "9", resources: shared }).subarray(5));
  expect(second).toMatchObject({ versionInfo: "2", nonce: "9", typeUrl: TYPE.endpoint });
  expect(second.resources).toEqual(fromBinary(DiscoveryResponseSchema, first.subarray(5)).resources);
});

test.each([
  ["an ACK", { versionInfo: "12", typeUrl: TYPE.endpoint, resourceNames: ["users", "billing"], responseNonce: "4" }],
  ["a first request without node", { typeUrl: TYPE.listener, resourceNames: [] }],
  ["a request with node (read by protobuf-es)", { typeUrl: TYPE.cluster, node: { id: "n-1", cluster: "c" } }],
  ["a NACK (read by protobuf-es)", { versionInfo: "1", typeUrl: TYPE.cluster, responseNonce: "2", errorDetail: { code: 3, message: "no" } }],
  ["a non-ASCII name (read by protobuf-es)", { versionInfo: "3", typeUrl: TYPE.endpoint, resourceNames: ["usérs"], responseNonce: "5" }],
  ["a name past 127 bytes (a two-byte length)", { versionInfo: "3", typeUrl: TYPE.endpoint, resourceNames: ["u".repeat(300)], responseNonce: "5" }],
  ["a name past 16383 bytes (read by protobuf-es)", { typeUrl: TYPE.endpoint, resourceNames: ["u".repeat(20_000)] }],
  ["an empty request", {}],
])("%s decodes as protobuf-es decodes it", (_name, init) => {
  const bytes = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init));
  const decoded = discoveryRequestCodec().decode(bytes) as DiscoveryRequest;
  expect(decoded).toStrictEqual(fromBinary(DiscoveryRequestSchema, bytes));
});

test("bad request bytes fail as protobuf-es fails them: a truncated string, invalid UTF-8", () => {
  const codec = discoveryRequestCodec();
  const truncated = Buffer.from([0x22, 0x10, 0x61]); // type_url says 16 bytes, has 1
  expect(() => codec.decode(truncated)).toThrow();
  expect(() => fromBinary(DiscoveryRequestSchema, truncated)).toThrow();
  const badUtf8 = Buffer.from([0x22, 0x02, 0xc3, 0x28]);
  expect(() => codec.decode(badUtf8)).toThrow();
  expect(() => fromBinary(DiscoveryRequestSchema, badUtf8)).toThrow();
});
