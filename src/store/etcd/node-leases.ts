// A node's two etcd leases and what keeps them alive: the short membership lease
// (its key says "this node is alive") and the longer instance lease its instance
// keys hang on. etcd drops a lease the node could not renew for its TTL (cut off
// from etcd while etcd stayed up); the node then grants itself a fresh one and
// goes on: it rejoins at once, and a write that meets the lost instance lease
// runs again on a fresh one, so the node takes writes again as soon as etcd answers.
import type { Logger } from "pino";
import { createBackoff, sleep } from "../../client/backoff";
import type { EtcdClient } from "./client/etcd-client";
import { isLeaseNotFound } from "./client/etcd-error";
import { createLeaseKeeper, type LeaseKeeper } from "./client/lease-keeper";

export interface NodeLeasesOptions {
  membershipTtlSeconds: number;
  instanceTtlSeconds: number;
  nodeId: string;
  logger?: Logger;
}

export class NodeLeases {
  private keeper: LeaseKeeper | undefined;
  /** The grant of a fresh instance lease under way, shared by every write that met the lost one. */
  private replacing: Promise<bigint> | undefined;

  private constructor(
    private readonly client: EtcdClient,
    private readonly options: NodeLeasesOptions,
    private membershipLease: bigint,
    private instanceLease: bigint,
  ) {}

  static async grant(client: EtcdClient, options: NodeLeasesOptions): Promise<NodeLeases> {
    const membership = await client.leaseGrant({ ttl: BigInt(options.membershipTtlSeconds) });
    const instances = await client.leaseGrant({ ttl: BigInt(options.instanceTtlSeconds) });
    return new NodeLeases(client, options, membership.id, instances.id);
  }

  /** The lease the node's membership key hangs on. */
  get membership(): bigint {
    return this.membershipLease;
  }

  /** The lease the node's instance keys hang on (it changes after etcd dropped the previous one). */
  get instances(): bigint {
    return this.instanceLease;
  }

  /**
   * Renews both leases until `signal` aborts. When etcd says the membership lease
   * is gone (declared dead while alive), grants a fresh one and calls `rejoin`
   * with it, retrying with backoff until that worked.
   */
  keepAlive(signal: AbortSignal, rejoin: (membershipLease: bigint) => Promise<void>): void {
    const keeper = createLeaseKeeper(this.client, {
      signal,
      onLost: (id) => {
        if (id === this.membershipLease) void this.rejoin(id, signal, rejoin);
        else if (id === this.instanceLease) void this.replaceInstanceLease(id).catch((error: unknown) => this.options.logger?.warn({ err: error }, "granting a fresh instance lease failed; retried at the next write"));
      },
    });
    keeper.keep(this.membershipLease, this.options.membershipTtlSeconds);
    keeper.keep(this.instanceLease, this.options.instanceTtlSeconds);
    this.keeper = keeper;
  }

  /**
   * Runs a write that puts keys on this node's instance lease. When etcd no
   * longer knows that lease, nothing was written (etcd refuses the whole txn):
   * the write runs once more on a fresh lease.
   */
  async withInstanceLease<T>(write: (lease: bigint) => Promise<T>): Promise<T> {
    const lease = this.instanceLease;
    try {
      return await write(lease);
    } catch (error) {
      if (!isLeaseNotFound(error)) throw error;
      return write(await this.replaceInstanceLease(lease));
    }
  }

  private replaceInstanceLease(lost: bigint): Promise<bigint> {
    if (this.instanceLease !== lost) return Promise.resolve(this.instanceLease);
    this.replacing ??= (async () => {
      const ttl = this.options.instanceTtlSeconds;
      const { id } = await this.client.leaseGrant({ ttl: BigInt(ttl) });
      this.keeper?.release(lost);
      this.instanceLease = id;
      this.keeper?.keep(id, ttl);
      this.options.logger?.warn({ nodeId: this.options.nodeId }, "instance lease lost; granted a fresh one");
      return id;
    })().finally(() => {
      this.replacing = undefined;
    });
    return this.replacing;
  }

  private async rejoin(lost: bigint, signal: AbortSignal, rejoin: (membershipLease: bigint) => Promise<void>): Promise<void> {
    this.options.logger?.warn({ nodeId: this.options.nodeId }, "membership lease lost; rejoining");
    const backoff = createBackoff({ initialMs: 100, maxMs: 2_000 });
    while (!signal.aborted && this.membershipLease === lost) {
      try {
        const ttl = this.options.membershipTtlSeconds;
        const { id } = await this.client.leaseGrant({ ttl: BigInt(ttl) });
        this.keeper?.release(lost);
        this.membershipLease = id;
        this.keeper?.keep(id, ttl);
      } catch (error) {
        this.options.logger?.warn({ err: error }, "granting a fresh membership lease failed; retrying");
        await sleep(backoff.next(), signal);
      }
    }
    // Ends when a later loss (the keeper heard of it) started a rejoin of its own.
    const granted = this.membershipLease;
    while (!signal.aborted && this.membershipLease === granted) {
      try {
        await rejoin(granted);
        return;
      } catch (error) {
        this.options.logger?.warn({ err: error }, "rejoining the cluster failed; retrying");
        await sleep(backoff.next(), signal);
      }
    }
  }
}
