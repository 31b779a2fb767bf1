// Keeps a node's few etcd leases alive over one LeaseKeepAlive stream: each lease
// is renewed every third of its TTL; a broken stream reconnects with jittered
// backoff (never a fixed 100 ms loop); a lease etcd no longer knows is reported lost.
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Lease, type LeaseKeepAliveRequest, type LeaseKeepAliveResponse } from "../../../../gen-etcd/etcd/etcdserverpb/rpc_pb";
import { createBackoff, sleep } from "../../../client/backoff";
import { deserializerOf, etcdMetadata, pathOf, serializerOf, type EtcdClient } from "./etcd-client";

export interface LeaseKeeperOptions {
  signal: AbortSignal;
  /** etcd answered that the lease no longer exists (expired or revoked). */
  onLost(id: bigint): void;
  /** A renewal was acknowledged (`ttlSeconds` is the fresh TTL). */
  onRenewed?(id: bigint, ttlSeconds: number): void;
}

export interface LeaseKeeper {
  keep(id: bigint, ttlSeconds: number): void;
  release(id: bigint): void;
  readonly leases: ReadonlySet<bigint>;
}

const PATH = pathOf(Lease.method.leaseKeepAlive);
const serialize = serializerOf(Lease.method.leaseKeepAlive.input);
const deserialize = deserializerOf(Lease.method.leaseKeepAlive.output);

export function createLeaseKeeper(client: EtcdClient, options: LeaseKeeperOptions): LeaseKeeper {
  const ttlOf = new Map<bigint, number>();
  const dueAt = new Map<bigint, number>();
  let stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined;
  const { signal } = options;

  const tick = setInterval(() => {
    if (stream === undefined) return;
    const now = Date.now();
    for (const [id, due] of dueAt) {
      if (due > now) continue;
      dueAt.set(id, now + (ttlOf.get(id)! * 1000) / 3);
      stream.write(create(Lease.method.leaseKeepAlive.input, { id }));
    }
  }, 250);
  tick.unref();
  signal.addEventListener("abort", () => clearInterval(tick), { once: true });

  void (async () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 2_000 });
    while (!signal.aborted) {
      const call = client.grpc.makeBidiStreamRequest(PATH, serialize, deserialize, etcdMetadata());
      const cancel = () => call.cancel();
      signal.addEventListener("abort", cancel, { once: true });
      stream = call;
      for (const id of dueAt.keys()) dueAt.set(id, 0); // renew everything at once after a reconnect
      try {
        for await (const response of call as AsyncIterable<LeaseKeepAliveResponse>) {
          backoff.reset();
          if (!ttlOf.has(response.id)) continue;
          if (response.ttl <= 0n) {
            ttlOf.delete(response.id);
            dueAt.delete(response.id);
            options.onLost(response.id);
          } else {
            options.onRenewed?.(response.id, Number(response.ttl));
          }
        }
      } catch {
        // reconnect below
      } finally {
        signal.removeEventListener("abort", cancel);
        stream = undefined;
        call.cancel();
      }
      await sleep(backoff.next(), signal);
    }
  })();

  return {
    keep(id, ttlSeconds) {
      ttlOf.set(id, ttlSeconds);
      dueAt.set(id, Date.now() + (ttlSeconds * 1000) / 3);
    },
    release(id) {
      ttlOf.delete(id);
      dueAt.delete(id);
    },
    get leases() {
      return new Set(ttlOf.keys());
    },
  };
}
