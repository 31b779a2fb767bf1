// An ADS stream on our transport takes each request (an ACK for every
// response) as it arrives, without a queue: these check that such a stream
// still follows the client's requests in order and ends once however it ends
// (half-close, cancel, a bad request), freeing its place under XDS_MAX_STREAMS.
import { create } from "@bufbuild/protobuf";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { AggregatedDiscoveryService } from "../../gen/envoy/service/discovery/v3/ads_pb";
import { DiscoveryRequestSchema, type DiscoveryResponse } from "../../gen/envoy/service/discovery/v3/discovery_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

let server: TestServer;
let discovery: GrpcTestClient<typeof DiscoveryService>;
let ads: GrpcTestClient<typeof AggregatedDiscoveryService>;

beforeEach(async () => {
  server = await startTestServer({ xds: { maxStreams: 1 } });
  discovery = new GrpcTestClient(DiscoveryService, server.target);
  ads = new GrpcTestClient(AggregatedDiscoveryService, server.target);
  await discovery.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: "u1", host: "127.0.0.1", port: 1 });
});

afterEach(async () => {
  discovery.close();
  ads.close();
  await server.close();
});

function openStream() {
  const call = ads.bidiStream(AggregatedDiscoveryService.method.streamAggregatedResources);
  return { call, answers: new StreamReader<DiscoveryResponse>(call) };
}

/** The one stream slot is free again: a new stream is served (the old one's end released it). */
async function expectSlotFree(): Promise<void> {
  const { call, answers } = openStream();
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"] }));
  expect((await answers.next(10_000)).typeUrl).toBe(EDS);
  call.end();
  expect(await answers.finished(10_000)).toBeUndefined();
}

test("ACKs are followed in order: an ACK of the current response is quiet, a change is pushed, a new name is answered", async () => {
  const { call, answers } = openStream();
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"] }));
  const first = await answers.next();
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"], versionInfo: first.versionInfo, responseNonce: first.nonce }));
  await discovery.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: "u2", host: "127.0.0.1", port: 2 });
  const pushed = await answers.next();
  expect(Number(pushed.versionInfo)).toBeGreaterThan(Number(first.versionInfo));
  expect(pushed.resources).toHaveLength(1);
  // ACK, then ask for one more name in the same turn: the second request is answered after the first is taken.
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"], versionInfo: pushed.versionInfo, responseNonce: pushed.nonce }));
  await discovery.unary(DiscoveryService.method.register, { serviceName: "billing", instanceId: "b1", host: "127.0.0.1", port: 3 });
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users", "billing"], versionInfo: pushed.versionInfo, responseNonce: pushed.nonce }));
  const both = await answers.next();
  expect(both.resources).toHaveLength(2);
  expect(answers.pending).toEqual([]);
  call.end();
  expect(await answers.finished()).toBeUndefined();
});

test("a client that half-closes ends its stream with OK and frees its place", async () => {
  const { call, answers } = openStream();
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"] }));
  await answers.next();
  call.end();
  expect(await answers.finished()).toBeUndefined();
  await expectSlotFree();
});

test("a client that cancels frees its place", async () => {
  const { call, answers } = openStream();
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"] }));
  await answers.next();
  call.cancel();
  expect(await answers.finished()).toMatchObject({ code: GrpcStatus.CANCELLED });
  // The server hears the reset on its own schedule: wait until a new stream is served.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { call: next, answers: nextAnswers } = openStream();
    next.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"] }));
    const outcome = await nextAnswers.next(10_000).then(
      (response) => response.typeUrl,
      (error: { code?: number }) => error.code,
    );
    if (outcome === EDS) {
      next.end();
      expect(await nextAnswers.finished()).toBeUndefined();
      return;
    }
    expect(outcome).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    if (Date.now() > deadline) throw new Error("the cancelled stream's place was not freed within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

test("a bad request after a good one ends the stream with INVALID_ARGUMENT naming the field, and frees its place", async () => {
  const { call, answers } = openStream();
  call.write(create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: ["users"] }));
  const first = await answers.next();
  call.write(create(DiscoveryRequestSchema, { typeUrl: "type.googleapis.com/x.Unknown", responseNonce: first.nonce }));
  expect(await answers.finished()).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringContaining("type_url") });
  await expectSlotFree();
});
