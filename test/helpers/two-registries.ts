// Two registry processes with registries of their own (memory store each), for
// the helpers' failover tests: kill the first, look at the second.
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { startServerProcess, type ServerProcess } from "./cli-process";
import { GrpcTestClient } from "./grpc-client";

export interface TwoRegistries {
  readonly first: ServerProcess;
  readonly second: ServerProcess;
  /** Both addresses as one comma-separated value ("127.0.0.1:A,127.0.0.1:B"). */
  readonly both: string;
  /** The instance ids of `service` on the second process. */
  listedOnSecond(service: string): Promise<string[]>;
  /** Kills both (SIGKILL) and waits. */
  close(): Promise<void>;
}

export async function startTwoRegistries(): Promise<TwoRegistries> {
  const [first, second] = await Promise.all([startServerProcess(), startServerProcess()]);
  const client = new GrpcTestClient(DiscoveryService, `127.0.0.1:${second.port}`);
  return {
    first,
    second,
    both: `127.0.0.1:${first.port},127.0.0.1:${second.port}`,
    listedOnSecond: async (service) => (await client.unary(DiscoveryService.method.listInstances, { serviceName: service })).instances.map((i) => i.instanceId),
    close: async () => {
      client.close();
      for (const s of [first, second]) s.child.kill("SIGKILL");
      await Promise.all([first.exited, second.exited]);
    },
  };
}
