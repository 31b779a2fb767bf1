// One state-of-the-world ADS stream: subscriptions, ACK, NACK, stale nonces,
// reconnects with a known version, wildcards and bounds.
import { create } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { DiscoveryRequestSchema, type DiscoveryRequest } from "../../gen/envoy/service/discovery/v3/discovery_pb";
import { DiscoveryError } from "../../src/core/errors";
import { AdsStream } from "../../src/services/xds/ads-stream";
import { TYPE, type TypeUrl } from "../../src/services/xds/resources";
import { tagsOf, TestResourceSource } from "../helpers/xds-resource-source";

class Source extends TestResourceSource {}

function request(init: { type?: TypeUrl; names?: string[]; nonce?: string; version?: string; nack?: string }): DiscoveryRequest {
  return create(DiscoveryRequestSchema, {
    typeUrl: init.type ?? TYPE.endpoint,
    resourceNames: init.names ?? [],
    responseNonce: init.nonce ?? "",
    versionInfo: init.version ?? "",
    errorDetail: init.nack === undefined ? undefined : { code: 3, message: init.nack },
    node: { id: "node-1" },
  });
}
const names = tagsOf;

test("a first request is answered with the named resources, a version and a nonce; unknown names are omitted", () => {
  const source = new Source();
  source.set("users", "users@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ names: ["users", "nope"] }));
  const response = stream.next();
  expect(response).toMatchObject({ typeUrl: TYPE.endpoint, versionInfo: "1", nonce: "1" });
  expect(names(response)).toEqual(["users@1"]);
  expect(stream.next()).toBeUndefined();
});

test("an ACK records the accepted version and sends nothing; a change is then pushed with a new version", () => {
  const source = new Source();
  source.set("users", "users@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ names: ["users"] }));
  stream.next();
  stream.receive(request({ names: ["users"], nonce: "1", version: "1" }));
  expect(stream.accepted(TYPE.endpoint)).toBe("1");
  expect(stream.next()).toBeUndefined();
  source.set("users", "users@2");
  stream.changed("users", performance.now());
  const push = stream.next();
  expect(push).toMatchObject({ versionInfo: "2", nonce: "2" });
  expect(names(push)).toEqual(["users@2"]);
});

test("a change to a resource the stream does not follow, or that it already holds, sends nothing", () => {
  const source = new Source();
  source.set("users", "users@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ names: ["users"] }));
  stream.next();
  source.set("billing", "billing@1");
  stream.changed("billing", performance.now());
  stream.changed("users", performance.now());
  expect(stream.next()).toBeUndefined();
});

test("a NACK is reported with its detail and keeps the version accepted last", () => {
  const source = new Source();
  source.set("users", "users@1");
  const nacks: string[] = [];
  const stream = new AdsStream(source, 100, { nack: (_type, detail, node) => nacks.push(`${node}: ${detail}`) });
  stream.receive(request({ names: ["users"] }));
  stream.next();
  stream.receive(request({ names: ["users"], nonce: "1", version: "1" }));
  source.set("users", "users@2");
  stream.changed("users", performance.now());
  stream.next();
  stream.receive(request({ names: ["users"], nonce: "2", version: "1", nack: "bad endpoint" }));
  expect(nacks).toEqual(["node-1: bad endpoint"]);
  expect(stream.accepted(TYPE.endpoint)).toBe("1");
  expect(stream.next()).toBeUndefined();
});

test("a request answering an older nonce is ignored: the newer response stands", () => {
  const source = new Source();
  source.set("users", "users@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ names: ["users"] }));
  stream.next();
  source.set("users", "users@2");
  stream.changed("users", performance.now());
  stream.next(); // nonce 2
  stream.receive(request({ names: ["users", "billing"], nonce: "1", version: "1" }));
  expect(stream.accepted(TYPE.endpoint)).toBe("");
  expect(stream.next()).toBeUndefined();
});

test("a client that reconnects naming a version it already has still gets its resources", () => {
  const source = new Source();
  source.set("users", "users@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ names: ["users"], version: "7" }));
  expect(names(stream.next())).toEqual(["users@1"]);
});

test("a change of subscription is answered with the new set", () => {
  const source = new Source();
  source.set("users", "users@1");
  source.set("billing", "billing@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ names: ["users"] }));
  stream.next();
  stream.receive(request({ names: ["users", "billing"], nonce: "1", version: "1" }));
  expect(names(stream.next())).toEqual(["users@1", "billing@1"]);
});

test("Listener and Cluster may be asked for all services; EDS may not", () => {
  const source = new Source();
  source.set("users", "users@1");
  source.set("billing", "billing@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request({ type: TYPE.cluster }));
  expect(names(stream.next())).toEqual(["users@1", "billing@1"]);
  stream.receive(request({ type: TYPE.endpoint }));
  expect(names(stream.next())).toEqual([]);
});

test("more names than the bound is RESOURCE_EXHAUSTED naming XDS_MAX_RESOURCES_PER_STREAM; an unknown type is INVALID_ARGUMENT", () => {
  const stream = new AdsStream(new Source(), 2);
  expect(() => stream.receive(request({ names: ["a", "b", "c"] }))).toThrow(expect.objectContaining({ reason: "resource-exhausted", message: expect.stringContaining("XDS_MAX_RESOURCES_PER_STREAM") }));
  expect(() => stream.receive(request({ type: "type.googleapis.com/x.Y" as TypeUrl }))).toThrow(DiscoveryError);
});

test("streams following the same resource send the same Any object: encoded once per change, not per stream", () => {
  const source = new Source();
  source.set("users", "users@1");
  const a = new AdsStream(source, 100);
  const b = new AdsStream(source, 100);
  a.receive(request({ names: ["users"] }));
  b.receive(request({ names: ["users"] }));
  expect(a.next()!.resources![0]).toBe(b.next()!.resources![0]);
});

test("the version is the registry revision a response reflects: streams that join at different times tell the same state apart by it", () => {
  const source = new Source();
  source.set("users", "users@1");
  source.set("billing", "billing@1");
  const early = new AdsStream(source, 100);
  early.receive(request({ names: ["users"] }));
  expect(early.next()).toMatchObject({ versionInfo: "2", nonce: "1" });
  source.set("users", "users@3");
  early.changed("users", performance.now());
  const late = new AdsStream(source, 100);
  late.receive(request({ names: ["users"] }));
  expect(early.next()).toMatchObject({ versionInfo: "3", nonce: "2" });
  expect(late.next()).toMatchObject({ versionInfo: "3", nonce: "1" });
});
