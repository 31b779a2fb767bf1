// A small HTTP gateway: forwards each request, round-robin, to the healthy
// instances of one service that it streams from the registry (healthyView).
// No routing table to keep by hand: instances that register, fail or drain
// are picked up or dropped as the registry reports them.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { healthyView, type HealthyView } from "grpc-discovery/client";

export interface GatewayOptions {
  /** The registry, e.g. http://127.0.0.1:3004. */
  registryUrl: string;
  /** The service whose instances receive the requests. */
  service: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface Gateway {
  readonly port: number;
  readonly view: HealthyView;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const view = healthyView(options.service, { url: options.registryUrl, avoidCriticalLoad: true });
  await view.ready();
  let next = 0;
  const server = http.createServer((request, response) => {
    const instances = view.instances;
    if (instances.length === 0) {
      response.writeHead(503, { "content-type": "text/plain" }).end(`no healthy instance of ${options.service}\n`);
      return;
    }
    const target = instances[next++ % instances.length]!;
    const upstream = http.request(
      { host: target.host, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, { ...answer.headers, "x-instance-id": target.instanceId });
        answer.pipe(response);
      },
    );
    upstream.on("error", () => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`instance ${target.instanceId} failed\n`);
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    view,
    close: () =>
      new Promise((resolve) => {
        view.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
