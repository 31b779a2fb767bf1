// Real registry node processes in cluster mode (`discovery serve` from dist/ with
// DISCOVERY_STORE=etcd) on free loopback ports, each with a gRPC client, against
// a test's etcd cluster. Tests kill -9 them, restart them, and close them all.
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { startServerProcess, type ServerProcess } from "./cli-process";
import { GrpcTestClient } from "./grpc-client";

export interface RegistryNode {
  readonly nodeId: string;
  readonly process: ServerProcess;
  readonly port: number;
  readonly client: GrpcTestClient<typeof DiscoveryService>;
  /** SIGKILL: no goodbye, no lease revoked. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

export interface RegistryNodeOptions {
  endpoints: string;
  prefix: string;
  nodeId: string;
  env?: Record<string, string>;
}

export async function startRegistryNode(options: RegistryNodeOptions): Promise<RegistryNode> {
  const process = await startServerProcess({
    DISCOVERY_STORE: "etcd",
    ETCD_ENDPOINTS: options.endpoints,
    ETCD_PREFIX: options.prefix,
    DISCOVERY_NODE_ID: options.nodeId,
    DISCOVERY_NODE_TTL_SECONDS: "2",
    HEALTH_CHECK_INTERVAL_SECONDS: "1",
    HEALTH_CHECK_TIMEOUT_SECONDS: "1",
    ...options.env,
  });
  const client = new GrpcTestClient(DiscoveryService, `127.0.0.1:${process.port}`);
  const end = async (signal: NodeJS.Signals) => {
    client.close();
    if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill(signal);
    await process.exited;
  };
  return { nodeId: options.nodeId, process, port: process.port, client, kill: () => end("SIGKILL"), stop: () => end("SIGTERM") };
}

/** Starts `count` nodes named `${name}-0`... in parallel. */
export function startRegistryNodes(count: number, options: Omit<RegistryNodeOptions, "nodeId"> & { name: string }): Promise<RegistryNode[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startRegistryNode({ ...options, nodeId: `${options.name}-${i}` })));
}
