// One DiscoveryService client per protocol the port speaks: gRPC (HTTP/2),
// Connect (HTTP/1.1 JSON) and gRPC-Web (HTTP/1.1 via fetch), each with an
// optional bearer token, so a test can assert one rule on every transport.
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";

export type Protocol = "grpc" | "connect" | "grpc-web";
export const PROTOCOLS: readonly Protocol[] = ["grpc", "connect", "grpc-web"];

export function bearer(token: string | undefined): Interceptor[] {
  if (token === undefined) return [];
  return [
    (next) => (request) => {
      request.header.set("authorization", `Bearer ${token}`);
      return next(request);
    },
  ];
}

export function transportFor(protocol: Protocol, baseUrl: string, token?: string): Transport {
  const interceptors = bearer(token);
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, interceptors });
  }
}

export function discoveryClient(protocol: Protocol, baseUrl: string, token?: string): Client<typeof DiscoveryService> {
  return createClient(DiscoveryService, transportFor(protocol, baseUrl, token));
}
