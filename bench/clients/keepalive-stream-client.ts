// Heartbeats as messages on long-lived bidi streams, the same driver for our
// KeepAlive and etcd's LeaseKeepAlive: S streams over one connection, each with
// W messages in flight, counting answers per second over the measured window.
// Usage: node keepalive-stream-client.js PORT ours|etcd STREAMS INFLIGHT SECONDS
import * as http2 from "node:http2";
import { HeartbeatRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { ETCD, leaseGrantRequest, leaseIdOf, leaseKeepAliveRequest } from "../lib/etcd-wire";
import { FrameReader, frameMessage } from "../lib/grpc-frame";

const [portArg, kind, streamsArg, inflightArg, secondsArg] = process.argv.slice(2);
const port = Number(portArg);
const headers = (path: string) => ({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });

async function unary(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers(path));
    const reader = new FrameReader();
    let answer: Buffer | undefined;
    stream.on("data", (chunk: Buffer) => reader.push(chunk, (payload) => (answer = Buffer.from(payload))));
    stream.on("end", () => (answer ? resolve(answer) : reject(new Error(`${path} answered nothing`))));
    stream.on("error", reject);
    stream.end(body);
  });
}

async function main(): Promise<void> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  let path: string;
  let message: Buffer;
  if (kind === "etcd") {
    const lease = leaseIdOf(await unary(session, ETCD.leaseGrant, leaseGrantRequest(600)));
    path = ETCD.leaseKeepAlive;
    message = leaseKeepAliveRequest(lease);
  } else {
    path = "/discovery.v1.DiscoveryService/KeepAlive";
    message = frameMessage(HeartbeatRequestSchema, { serviceName: "bench", instanceId: "hb-1", loadPercentage: 0.5 });
  }
  let answers = 0;
  let status = "";
  for (let s = 0; s < Number(streamsArg); s++) {
    const stream = session.request(headers(path));
    const reader = new FrameReader();
    stream.on("data", (chunk: Buffer) =>
      reader.push(chunk, () => {
        answers++;
        stream.write(message); // one answered, one more in flight
      }),
    );
    stream.on("response", (h) => h["grpc-status"] !== undefined && (status = String(h["grpc-status"])));
    stream.on("trailers", (t) => (status = String(t["grpc-status"])));
    stream.on("error", () => {});
    for (let i = 0; i < Number(inflightArg); i++) stream.write(message);
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const start = answers;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, Number(secondsArg) * 1000));
  const rate = ((answers - start) * 1000) / (performance.now() - started);
  console.log(JSON.stringify({ messagesPerSecond: Math.round(rate), status }));
  session.destroy();
  process.exit(0);
}

void main();
