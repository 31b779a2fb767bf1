// ADS streams on the push path: streams that subscribe alike share what they
// are sent, a due response is written at once (no promise per response), a full
// sink holds one pending response per type, and a stream ends once however it ends.
import { create } from "@bufbuild/protobuf";
import pino from "pino";
import { DiscoveryRequestSchema, type DiscoveryRequest } from "../../gen/envoy/service/discovery/v3/discovery_pb";
import { createAdsHandlers } from "../../src/services/xds/ads-service";
import { AdsStream, type DiscoveryResponseInit } from "../../src/services/xds/ads-stream";
import { ResourceSets } from "../../src/services/xds/resource-sets";
import { TYPE, type TypeUrl } from "../../src/services/xds/resources";
import type { CallContext } from "../../src/transport/contract";
import { EACH, PUSH, type PushSource, type RequestListener } from "../../src/transport/push-source";
import { tagsOf, TestResourceSource } from "../helpers/xds-resource-source";

function request(names: string[], nonce = "", type: TypeUrl = TYPE.endpoint): DiscoveryRequest {
  return create(DiscoveryRequestSchema, { typeUrl: type, resourceNames: names, responseNonce: nonce, versionInfo: nonce === "" ? "" : "1" });
}

/**
 * Requests the test sends when it likes, as the transport hands them to a
 * handler: iterated, or (`fed`) handed over one by one as they arrive, as our transport does.
 */
function requestQueue(fed: boolean) {
  const queued: DiscoveryRequest[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let listener: RequestListener<DiscoveryRequest> | undefined;
  const iterable = {
    send(request: DiscoveryRequest) {
      if (listener !== undefined) return listener.message(request);
      queued.push(request);
      wake?.();
    },
    end() {
      ended = true;
      if (listener !== undefined) return listener.end();
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queued.length > 0) yield queued.shift()!;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
  if (!fed) return iterable;
  return Object.assign(iterable, {
    [EACH](each: RequestListener<DiscoveryRequest>) {
      listener = each;
    },
  });
}

const context = { signal: new AbortController().signal, shutdownSignal: new AbortController().signal } as CallContext;
const turn = () => new Promise((resolve) => setImmediate(resolve));

function openPushStream(source: TestResourceSource, options: { maxStreams?: number; room?: () => boolean; fed?: boolean } = {}) {
  const handlers = createAdsHandlers({ catalog: source, logger: pino({ level: "silent" }), maxStreams: options.maxStreams });
  const open = () => {
    const requests = requestQueue(options.fed ?? false);
    const written: DiscoveryResponseInit[] = [];
    const ends: unknown[] = [];
    const source = handlers.streamAggregatedResources!(requests, context) as PushSource<DiscoveryResponseInit>;
    const control = source[PUSH]({
      write: (response) => {
        written.push(response);
        return options.room?.() ?? true;
      },
      end: (error) => ends.push(error),
    });
    return { requests, written, ends, control };
  };
  return open;
}

test("streams that subscribe alike share one resources array per change; the next change reads the catalog again", () => {
  const source = new TestResourceSource();
  source.set("users", "users@1");
  const sets = new ResourceSets(source);
  const [a, b, c] = [0, 1, 2].map(() => new AdsStream(source, 100, {}, sets));
  a!.receive(request(["users"]));
  b!.receive(request(["users"]));
  c!.receive(request(["users", "billing"]));
  const [ra, rb, rc] = [a!.next(), b!.next(), c!.next()];
  expect(ra!.resources).toBe(rb!.resources);
  expect(rc!.resources).not.toBe(ra!.resources);
  source.set("users", "users@2");
  a!.changed("users", performance.now());
  b!.changed("users", performance.now());
  const [na, nb] = [a!.next(), b!.next()];
  expect(na!.resources).not.toBe(ra!.resources);
  expect(na!.resources).toBe(nb!.resources);
  expect(tagsOf(na)).toEqual(["users@2"]);
});

test("an ACK naming the same names in another order changes nothing: no response, the subscription stands", () => {
  const source = new TestResourceSource();
  source.set("users", "users@1");
  source.set("billing", "billing@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request(["users", "billing"]));
  stream.next();
  stream.receive(request(["billing", "users"], "1"));
  expect(stream.next()).toBeUndefined();
});

test("a stream follows the names it subscribes to: a name kept across a change is never let go, and all are let go when the stream closes", () => {
  const source = new TestResourceSource();
  source.set("users", "users@1");
  const stream = new AdsStream(source, 100);
  stream.receive(request(["users"]));
  expect(source.followers).toEqual(new Map([["users", 1]]));
  const sent = stream.next()!;
  stream.receive(request(["users", "billing"], sent.nonce!));
  expect(source.letGo).toEqual([]); // "users" stayed followed through the change
  expect(source.followers).toEqual(new Map([["users", 1], ["billing", 1]]));
  stream.receive(request(["users"], "", TYPE.cluster));
  expect(source.followers).toEqual(new Map([["users", 2], ["billing", 1]]));
  stream.close();
  expect(source.followers).toEqual(new Map());
  stream.receive(request(["late"])); // a request still in flight when the stream ended
  expect(source.followers).toEqual(new Map());
});

// Requests iterated (other transports) or fed as they arrive (ours): the stream behaves alike.
describe.each([["iterated", false], ["fed", true]])("requests %s", (_, fed) => {
  test("a due response is written at once, within the change that made it due", async () => {
    const source = new TestResourceSource();
    source.set("users", "users@1");
    const stream = openPushStream(source, { fed })();
    stream.requests.send(request(["users"]));
    await turn();
    expect(stream.written.map(tagsOf)).toEqual([["users@1"]]);
    source.set("users", "users@2");
    // No await: the push happened inside set().
    expect(stream.written.map((r) => r.versionInfo)).toEqual(["1", "2"]);
  });

  test("a full sink holds one pending response per type: on resume the latest state goes out once", async () => {
    const source = new TestResourceSource();
    source.set("users", "users@1");
    let room = false;
    const stream = openPushStream(source, { room: () => room, fed })();
    stream.requests.send(request(["users"]));
    await turn();
    expect(stream.written).toHaveLength(1); // written, and the sink said it is full
    source.set("users", "users@2");
    source.set("users", "users@3");
    expect(stream.written).toHaveLength(1);
    room = true;
    stream.control.resume();
    expect(stream.written).toHaveLength(2);
    expect(tagsOf(stream.written[1])).toEqual(["users@3"]);
    expect(stream.written[1]!.versionInfo).toBe("3");
  });

  test("a stream ends once however it ends, and frees its place under XDS_MAX_STREAMS", async () => {
    const source = new TestResourceSource();
    const open = openPushStream(source, { maxStreams: 1, fed });
    const first = open();
    expect(open).toThrow(expect.objectContaining({ reason: "resource-exhausted", message: expect.stringContaining("XDS_MAX_STREAMS") }));
    first.requests.end(); // the client half-closed: the call ends OK
    await turn();
    expect(first.ends).toEqual([undefined]);
    first.control.cancel(); // the transport's end hook after that changes nothing
    const second = open();
    second.requests.send(request([], "", "type.googleapis.com/x.Unknown" as TypeUrl));
    await turn();
    expect(second.ends).toEqual([expect.objectContaining({ reason: "invalid-argument" })]);
    source.set("users", "users@1"); // no listener left: nothing is written to an ended stream
    expect(second.written).toEqual([]);
    expect(open).not.toThrow();
  });
});
