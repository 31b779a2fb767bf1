// The xDS push load: N ADS streams (state of the world, EDS for one service)
// spread over a few HTTP/2 connections, each ACKing every response, and the
// driver of the changes, in one process so that a change and its pushes are
// timed on one clock. Each change is a load crossing on one of two instances,
// which takes it out of (or back into) the assignment. A stream may get two
// changes in one push (the server keeps one pending response per type): each
// response's version_info is the registry revision it reflects, and the driver
// learns each change's revision from a Watch stream (the change's load is
// unique to it), so a push counts for every change it carries, each with its
// own delay. Same protocol with the harness as the Watch fan-out client.
import * as http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventType, HeartbeatRequestSchema, RegisterRequestSchema, WatchEventSchema, WatchRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { DiscoveryRequestSchema } from "../../gen/envoy/service/discovery/v3/discovery_pb";
import { FrameReader, frameMessage } from "../lib/grpc-frame";
import { runFanoutClient, type FanoutTarget } from "./watch-fanout-client";

const SERVICE = "fanout";
const EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
/** Change k's load: on the critical side for even k, below it for odd k, and unique to k. */
const loadOf = (k: number) => (k % 2 === 0 ? 0.9 : 0.5) + k * 1e-4;
const changeOf = (load: number) => Math.round((load - (load >= 0.85 ? 0.9 : 0.5)) * 1e4);
const grpcHeaders = (path: string) => ({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });

function unary(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request(grpcHeaders(path));
    stream.on("data", () => {});
    stream.on("end", resolve);
    stream.on("error", reject);
    stream.end(body);
  });
}

/**
 * version_info (1) and nonce (5) of a DiscoveryResponse, read without decoding
 * its resources: the client on its one core must cost far less than the server it measures.
 */
function versionAndNonce(payload: Buffer): { version: string; nonce: string } {
  let version = "";
  let nonce = "";
  let at = 0;
  while (at < payload.length) {
    let tag: number;
    [tag, at] = varint(payload, at);
    if ((tag & 7) === 0) {
      at = varint(payload, at)[1];
      continue;
    }
    if ((tag & 7) !== 2) throw new Error(`unexpected wire type in a DiscoveryResponse: ${tag & 7}`);
    let length: number;
    [length, at] = varint(payload, at);
    if (tag >>> 3 === 1) version = payload.toString("utf8", at, at + length);
    if (tag >>> 3 === 5) nonce = payload.toString("utf8", at, at + length);
    at += length;
  }
  return { version, nonce };
}

function varint(bytes: Buffer, at: number): [number, number] {
  let value = 0;
  for (let shift = 1; ; shift *= 128) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return [value, at];
  }
}

/** The ACK of a response: the subscription's bytes (encoded once) and the version and nonce it answers (fields 1 and 5). */
const subscriptionBytes = Buffer.from(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: [SERVICE] })));
function ackOf(version: string, nonce: string): Buffer {
  if (version.length > 127 || nonce.length > 127) throw new Error("a version or nonce longer than a one-byte length");
  const length = 2 + version.length + subscriptionBytes.length + 2 + nonce.length;
  const out = Buffer.allocUnsafe(5 + length);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  let at = 5;
  out[at++] = 0x0a;
  out[at++] = version.length;
  at += out.write(version, at, "latin1");
  at += subscriptionBytes.copy(out, at);
  out[at++] = 0x2a;
  out[at++] = nonce.length;
  out.write(nonce, at, "latin1");
  return out;
}

/**
 * ACKs are written after the arrivals at hand are stamped: this one process
 * plays 1000 clients on one core, and a push's arrival time must not include
 * the ACKs of the streams read before it in the same socket read.
 */
const acks: [http2.ClientHttp2Stream, Buffer][] = [];
function ackSoon(stream: http2.ClientHttp2Stream, ack: Buffer): void {
  if (acks.push([stream, ack]) === 1)
    setImmediate(() => {
      for (const [to, bytes] of acks.splice(0)) to.write(bytes);
    });
}

export const xdsPushes: FanoutTarget = {
  subscribe(session, onSynced, onEvent) {
    const stream = session.request(grpcHeaders("/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"));
    const reader = new FrameReader();
    let first = true;
    stream.on("data", (chunk: Buffer) => {
      const now = performance.now();
      reader.push(chunk, (payload) => {
        const { version, nonce } = versionAndNonce(payload);
        ackSoon(stream, ackOf(version, nonce));
        if (first) {
          first = false;
          onSynced();
        } else {
          onEvent(now, Number.parseInt(version, 10));
        }
      });
    });
    stream.on("error", () => {});
    stream.write(frameMessage(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: [SERVICE], node: { id: "bench" } }));
  },
  change(session, k) {
    void unary(session, "/discovery.v1.DiscoveryService/Heartbeat", frameMessage(HeartbeatRequestSchema, { serviceName: SERVICE, instanceId: "hot", loadPercentage: loadOf(k) })).catch(() => {});
  },
  async revisions(session) {
    const revisionOf = new Map<number, number>();
    const stream = session.request(grpcHeaders("/discovery.v1.DiscoveryService/Watch"));
    const reader = new FrameReader();
    let synced = false;
    await new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) =>
        reader.push(chunk, (payload) => {
          const event = fromBinary(WatchEventSchema, payload);
          if (event.type === EventType.SYNCED) {
            synced = true;
            return resolve();
          }
          if (synced && event.instance?.instanceId === "hot") revisionOf.set(changeOf(event.instance.loadPercentage), Number(event.revision));
        }),
      );
      stream.on("error", () => {});
      stream.end(frameMessage(WatchRequestSchema, { serviceNames: [SERVICE] }));
    });
    return (k) => revisionOf.get(k);
  },
  async prepare(session) {
    const register = (instanceId: string, port: number) =>
      unary(session, "/discovery.v1.DiscoveryService/Register", frameMessage(RegisterRequestSchema, { serviceName: SERVICE, instanceId, host: "127.0.0.1", port, ttl: { seconds: 3600n }, loadPercentage: 0.5 }));
    await register("hot", 1);
    await register("cool", 2);
  },
};

if (require.main === module) void runFanoutClient(xdsPushes);
