// Probe targets for benchmarks, in their own process: HTTP health endpoints on
// 127.0.0.1 answering {"status":"healthy","load_percentage":0.3}.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

const COUNT = Number(process.env.TARGETS ?? "10");
const BODY = JSON.stringify({ status: "healthy", load_percentage: 0.3 });

async function main(): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
      response.end(BODY);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ports.push((server.address() as AddressInfo).port);
  }
  process.send!({ t: "listening", ports });
  process.on("disconnect", () => process.exit(0));
}

void main();
