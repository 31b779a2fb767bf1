// The soak's load, in its own process so the server's heap is the server's alone:
// churn (register/unregister over a bounded set of ids), cancelled calls (the
// message + RST_STREAM pattern and grpc cancels), slow watchers that never read,
// and bad input on every transport. Runs until SIGTERM; prints counts as JSON.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { create, toBinary } = require("@bufbuild/protobuf");
const pb = require("../dist/gen/discovery/v1/discovery_pb.js");

const port = Number(process.argv[2]);
const counts = { churn: 0, cancels: 0, slowWatchers: 0, badInput: 0, errors: 0 };
let running = true;
process.on("SIGTERM", () => {
  running = false;
  process.stdout.write(JSON.stringify(counts) + "\n");
  setTimeout(() => process.exit(0), 100);
});

const frame = (bytes, flag = 0) => {
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flag;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
};
const register = (service, id) => frame(toBinary(pb.RegisterRequestSchema, create(pb.RegisterRequestSchema, { serviceName: service, instanceId: id, host: "10.1.0.1", port: 8000, ttl: { seconds: 60n } })));
const unregister = (service, id) => frame(toBinary(pb.UnregisterRequestSchema, create(pb.UnregisterRequestSchema, { serviceName: service, instanceId: id })));
const watch = (service) => frame(toBinary(pb.WatchRequestSchema, create(pb.WatchRequestSchema, { serviceNames: [service] })));

let session;
function h2() {
  if (session === undefined || session.destroyed || session.closed) {
    session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
  }
  return session;
}
function unary(path, body) {
  return new Promise((resolve) => {
    const stream = h2().request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let status;
    stream.on("response", (h) => h["grpc-status"] !== undefined && (status = Number(h["grpc-status"])));
    stream.on("trailers", (h) => (status = Number(h["grpc-status"])));
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.on("close", () => resolve(status));
    stream.end(body);
  });
}

async function churn(worker) {
  for (let i = 0; running; i++) {
    const service = `churn-${i % 10}`;
    const id = `c${worker}-${i % 500}`;
    const a = await unary("/discovery.v1.DiscoveryService/Register", register(service, id));
    const b = await unary("/discovery.v1.DiscoveryService/Unregister", unregister(service, id));
    if (a !== 0 || b !== 0) counts.errors++;
    counts.churn++;
  }
}

async function cancels() {
  while (running) {
    // The pattern that used to crash the server: headers, then a message and RST_STREAM together.
    await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        const lit = (n, v) => Buffer.concat([Buffer.from([0, n.length]), Buffer.from(n), Buffer.from([v.length]), Buffer.from(v)]);
        const block = Buffer.concat([lit(":method", "POST"), lit(":scheme", "http"), lit(":path", "/discovery.v1.DiscoveryService/ListServices"), lit(":authority", "x"), lit("content-type", "application/grpc"), lit("te", "trailers")]);
        const f = (type, flags, id, payload) => {
          const h = Buffer.alloc(9);
          h.writeUIntBE(payload.length, 0, 3);
          h[3] = type;
          h[4] = flags;
          h.writeUInt32BE(id, 5);
          return Buffer.concat([h, payload]);
        };
        socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), f(4, 0, 0, Buffer.alloc(0)), f(1, 4, 1, block)]));
        setTimeout(() => {
          const rst = Buffer.alloc(4);
          rst.writeUInt32BE(8);
          socket.write(Buffer.concat([f(0, 0, 1, frame(Buffer.alloc(0))), f(3, 0, 1, rst)]));
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 20);
        }, 10);
      });
      socket.on("error", () => resolve());
    });
    // A Watch cancelled by the client after it started.
    const stream = h2().request({ ":method": "POST", ":path": "/discovery.v1.DiscoveryService/Watch", "content-type": "application/grpc", te: "trailers" });
    stream.on("error", () => {});
    stream.on("data", () => {});
    stream.end(watch("kept"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    counts.cancels++;
  }
}

async function slowWatchers() {
  while (running) {
    // 40 watchers of the large service on a connection that never reads: the server must not copy their snapshots.
    const stalled = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1024 } });
    stalled.on("error", () => {});
    for (let i = 0; i < 40; i++) {
      const stream = stalled.request({ ":method": "POST", ":path": "/discovery.v1.DiscoveryService/Watch", "content-type": "application/grpc", te: "trailers" });
      stream.on("error", () => {});
      stream.pause();
      stream.end(watch("kept"));
      counts.slowWatchers++;
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    stalled.destroy();
  }
}

function http1(path, contentType, body) {
  return new Promise((resolve) => {
    const request = http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": contentType, "content-length": body.length } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode));
    });
    request.on("error", () => resolve(0));
    request.end(body);
  });
}

async function badInput() {
  const path = "/discovery.v1.DiscoveryService/Register";
  while (running) {
    const junk = Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 60) }, () => Math.floor(Math.random() * 256)));
    await unary(path, junk);
    await unary(path, frame(junk));
    const web = await http1(path, "application/grpc-web+proto", frame(junk, Math.random() < 0.2 ? 1 : 0));
    const connect = await http1(path, "application/proto", junk);
    const json = await http1(path, "application/json", Buffer.from(`{"serviceName": ${junk.toString("latin1").slice(0, 10)}`));
    if ([web, connect, json].includes(500)) counts.errors++;
    counts.badInput++;
  }
}

await Promise.all([churn(0), churn(1), churn(2), churn(3), cancels(), slowWatchers(), badInput()]);
