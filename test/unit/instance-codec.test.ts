// The hand-written Instance encoder must produce exactly what protobuf-es does.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HealthStatus,
  HeartbeatResponseSchema,
  InstanceSchema,
  RegisterResponseSchema,
  type Instance,
} from "../../gen/discovery/v1/discovery_pb";
import { encodeInstanceAnswer, ENCODED_INSTANCE_FIELDS } from "../../src/services/discovery/instance-codec";

function full(overrides: Partial<Instance> = {}): Instance {
  const instance = create(InstanceSchema, {
    serviceName: "users",
    instanceId: "users-ünïcode-1",
    host: "10.0.0.7",
    port: 65535,
    healthEndpoint: "/healthz",
    metadata: { zone: "eu-1", "version": "1.4.2", empty: "", "k/é": "v".repeat(300) },
    status: HealthStatus.DEGRADED,
    loadPercentage: 0.8125,
    criticalLoad: true,
    registeredAt: { seconds: 1_795_331_234n, nanos: 123_000_000 },
    lastHeartbeat: { seconds: 1_795_331_299n, nanos: 0 },
    ttl: { seconds: 30n, nanos: 500_000_000 },
    healthCheck: { probe: { case: "http", value: { path: "/health", expectedStatusMin: 200, expectedStatusMax: 299, headers: { a: "b" } } }, interval: { seconds: 10n }, healthyThreshold: 2 },
    lastHealthCheck: { seconds: 1_795_331_298n, nanos: 5 },
    latency: { seconds: 0n, nanos: 4_500_000 },
    uptime: 0.995,
  });
  return { ...instance, ...overrides };
}

test("it knows every field of Instance (a new field must be added to the encoder)", () => {
  expect(InstanceSchema.fields.map((f) => f.number).sort((a, b) => a - b)).toEqual(ENCODED_INSTANCE_FIELDS);
});

test.each([
  ["every field set", full()],
  ["zero values", create(InstanceSchema, { serviceName: "s", instanceId: "i" })],
  ["no metadata, healthy, not critical", full({ metadata: {}, status: HealthStatus.HEALTHY, criticalLoad: false, loadPercentage: 0, uptime: 0 })],
  ["no health check or times", full({ healthCheck: undefined, lastHealthCheck: undefined, latency: undefined, registeredAt: undefined })],
])("a HeartbeatResponse with %s encodes to protobuf-es's exact bytes", (_name, instance) => {
  const message = create(HeartbeatResponseSchema, { instance });
  const framed = encodeInstanceAnswer(message)!;
  const expected = toBinary(HeartbeatResponseSchema, message);
  expect(framed.readUInt32BE(1)).toBe(expected.length);
  expect(Buffer.from(framed.subarray(5)).equals(Buffer.from(expected))).toBe(true);
  expect(fromBinary(HeartbeatResponseSchema, framed.subarray(5))).toEqual(message);
});

test("a RegisterResponse carries the heartbeat interval too", () => {
  const message = create(RegisterResponseSchema, { instance: full(), heartbeatInterval: { seconds: 10n, nanos: 166_000_000 } });
  const framed = encodeInstanceAnswer(message)!;
  expect(Buffer.from(framed.subarray(5)).equals(Buffer.from(toBinary(RegisterResponseSchema, message)))).toBe(true);
});

test("values outside the fast path are left to protobuf-es", () => {
  const before1970 = create(HeartbeatResponseSchema, { instance: full({ registeredAt: { $typeName: "google.protobuf.Timestamp", seconds: -5n, nanos: 0 } }) });
  expect(encodeInstanceAnswer(before1970)).toBeUndefined();
  expect(encodeInstanceAnswer(create(HeartbeatResponseSchema, {}))).toBeUndefined();
});
