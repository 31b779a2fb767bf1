// Unary load from h2load (Debian's nghttp2-client), pinned to the client core,
// with pre-encoded gRPC requests. h2load counts any HTTP 200 as a success, so a
// sample of the same requests is first checked for grpc-status 0 by hand.
import { execFile } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import * as http2 from "node:http2";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { CLIENT_CORE } from "./processes";

const run = promisify(execFile);

export interface H2loadOptions {
  port: number;
  path: string;
  /** The framed gRPC request body sent with every call. */
  body: Buffer;
  seconds: number;
  warmupSeconds?: number;
  connections?: number;
  streamsPerConnection?: number;
  /** Extra request headers ("name: value"), e.g. an authorization header. */
  headers?: string[];
  /** https:// (h2load negotiates h2 by ALPN and does not verify the certificate). */
  tls?: boolean;
}

export interface H2loadResult {
  requestsPerSecond: number;
  succeeded: number;
  failed: number;
}

export async function h2load(options: H2loadOptions): Promise<H2loadResult> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "h2load-")), "body.bin");
  writeFileSync(file, options.body);
  const { stdout } = await run(
    "taskset",
    [
      "-c",
      String(CLIENT_CORE),
      "h2load",
      "-D",
      String(options.seconds),
      `--warm-up-time=${options.warmupSeconds ?? 1}`,
      "-c",
      String(options.connections ?? 16),
      "-m",
      String(options.streamsPerConnection ?? 32),
      "-t",
      "1",
      "-d",
      file,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      ...(options.headers ?? []).flatMap((header) => ["-H", header]),
      // Offer only h2 over TLS, as gRPC clients do (offering http/1.1 too gets HTTP/1.1 from our port).
      ...(options.tls === true ? ["--npn-list=h2"] : []),
      `${options.tls === true ? "https" : "http"}://127.0.0.1:${options.port}${options.path}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout);
  const counts = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  if (rate === null || counts === null) throw new Error(`unexpected h2load output:\n${stdout}`);
  return { requestsPerSecond: Number(rate[1]), succeeded: Number(counts[1]), failed: Number(counts[2]) };
}

/** Sends `count` calls with the body and fails unless every one ends with grpc-status 0. */
export async function verifyGrpcOk(port: number, urlPath: string, body: Buffer, count = 20, options: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<void> {
  const session = http2.connect(`${options.ca === undefined ? "http" : "https"}://127.0.0.1:${port}`, { ca: options.ca, servername: "localhost" });
  try {
    for (let i = 0; i < count; i++) {
      const status = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": urlPath, "content-type": "application/grpc", te: "trailers", ...options.headers });
        let grpcStatus = "";
        stream.on("response", (headers) => {
          if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]); // trailers-only answer
        });
        stream.on("trailers", (trailers) => (grpcStatus = String(trailers["grpc-status"])));
        stream.on("data", () => {});
        stream.on("end", () => resolve(grpcStatus));
        stream.on("error", reject);
        stream.end(body);
      });
      if (status !== "0") throw new Error(`${urlPath} answered grpc-status ${status || "(none)"}; the load would measure errors`);
    }
  } finally {
    session.close();
  }
}
