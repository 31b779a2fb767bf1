// The real registry (startServer, every service and middleware) on the gRPC
// transport named by BENCH_TRANSPORT: "http2" (ours) or "grpc-js". The
// transport-choice scenario starts one of each, alike in everything else.
import pino from "pino";
import { startServer } from "../../src/server/create-server";

const transport = process.env.BENCH_TRANSPORT === "grpc-js" ? "grpc-js" : "http2";
void startServer({
  host: "127.0.0.1",
  port: Number(process.env.PORT),
  logger: pino({ level: "warn" }),
  grpcTransport: transport,
  maxWatchers: 20_000,
}).then((server) => process.on("SIGTERM", () => void server.close().then(() => process.exit(0))));
