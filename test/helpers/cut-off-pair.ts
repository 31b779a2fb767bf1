// Two real registry nodes on a real 3-member etcd, one of which (`cut`) reaches etcd
// only through a TCP proxy the test can pause: a node cut off from etcd while etcd
// and the other node go on. Tests of catch-up, resync and lease loss share it.
import { Health } from "../../gen/grpc/health/v1/health_pb";
import { startEtcdCluster, type EtcdCluster } from "./etcd-cluster";
import { GrpcTestClient } from "./grpc-client";
import { startRegistryNode, type RegistryNode } from "./registry-nodes";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";

export interface CutOffPair {
  readonly etcd: EtcdCluster;
  /** Between `cut` and one etcd member: pause() cuts the node off, resume() lets it back. */
  readonly proxy: TcpProxy;
  readonly cut: RegistryNode;
  /** Talks to every etcd member directly. */
  readonly other: RegistryNode;
  /** grpc.health.v1 on `cut`. */
  readonly cutHealth: GrpcTestClient<typeof Health>;
  close(): Promise<void>;
}

/** Nodes `${name}-cut` and `${name}-other` under `prefix`, both with `env`, the cut one also with `cutEnv`. */
export async function startCutOffPair(options: { prefix: string; name: string; env?: Record<string, string>; cutEnv?: Record<string, string> }): Promise<CutOffPair> {
  const etcd = await startEtcdCluster(3);
  const proxy = await startTcpProxy(etcd.members[0]!.clientPort);
  const nodes = await Promise.allSettled([
    startRegistryNode({ endpoints: proxy.url, prefix: options.prefix, nodeId: `${options.name}-cut`, env: { ...options.env, ...options.cutEnv } }),
    startRegistryNode({ endpoints: etcd.endpoints, prefix: options.prefix, nodeId: `${options.name}-other`, env: options.env }),
  ]);
  const [cut, other] = nodes.map((n) => (n.status === "fulfilled" ? n.value : undefined));
  const closeAll = async (health?: GrpcTestClient<typeof Health>) => {
    health?.close();
    await Promise.all([cut?.stop(), other?.stop()]);
    await proxy.close();
    await etcd.close();
  };
  if (cut === undefined || other === undefined) {
    await closeAll();
    throw (nodes.find((n) => n.status === "rejected") as PromiseRejectedResult).reason;
  }
  const cutHealth = new GrpcTestClient(Health, `127.0.0.1:${cut.port}`);
  return { etcd, proxy, cut, other, cutHealth, close: () => closeAll(cutHealth) };
}
