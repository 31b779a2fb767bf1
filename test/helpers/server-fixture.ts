// The real server on a free 127.0.0.1 port, with a silent logger, closed after the test.
import pino from "pino";
import { startServer, type DiscoveryServer, type ServerOptions } from "../../src/server/create-server";

export interface TestServer extends DiscoveryServer {
  /** host:port for grpc-js clients. */
  readonly target: string;
  /** http://host:port for HTTP/1.1 clients. */
  readonly baseUrl: string;
}

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    shutdownGraceMs: 200,
    ...options,
  });
  return Object.assign(server, {
    target: `127.0.0.1:${server.port}`,
    baseUrl: `http://127.0.0.1:${server.port}`,
  });
}
