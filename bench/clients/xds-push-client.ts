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
import { fromBinary } from "@bufbuild/protobuf";
import { EventType, HeartbeatRequestSchema, RegisterRequestSchema, WatchEventSchema, WatchRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { DiscoveryRequestSchema, DiscoveryResponseSchema } from "../../gen/envoy/service/discovery/v3/discovery_pb";
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

export const xdsPushes: FanoutTarget = {
  subscribe(session, onSynced, onEvent) {
    const stream = session.request(grpcHeaders("/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"));
    const reader = new FrameReader();
    let first = true;
    stream.on("data", (chunk: Buffer) => {
      const now = performance.now();
      reader.push(chunk, (payload) => {
        const response = fromBinary(DiscoveryResponseSchema, payload);
        stream.write(frameMessage(DiscoveryRequestSchema, { typeUrl: EDS, resourceNames: [SERVICE], versionInfo: response.versionInfo, responseNonce: response.nonce }));
        if (first) {
          first = false;
          onSynced();
        } else {
          onEvent(now, Number.parseInt(response.versionInfo, 10));
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
