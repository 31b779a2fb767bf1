// One node's link to etcd: the client, the node's two leases (a short membership
// lease whose key says "this node is alive", a longer one its instance keys hang
// on), the one watch of ETCD_PREFIX that feeds the view, whether etcd is reachable
// and the view caught up with it, and the adoption of a dead node's instances by
// one elected survivor.
import type { Logger } from "pino";
import type { StoredInstance } from "../../core/store";
import type { InstanceView } from "../../core/types";
import { CatchUp, type SyncState } from "./catch-up";
import { decodeChange, sinksOfMember, type InstanceChange } from "./change-decoder";
import { createEtcdClient, type EtcdClient } from "./client/etcd-client";
import { grpcTargetOf, parseEtcdEndpoints } from "./client/endpoints";
import { utf8 } from "./client/keys";
import { createBackoff, sleep } from "../../client/backoff";
import { watchRange } from "./client/watch-stream";
import { createIfAbsent, guardedWriteWithRetry, WRITE_ATTEMPT_TIMEOUT_MS } from "./etcd-writes";
import { decodeRecord, encodeRecord } from "./instance-record";
import { keyLayout, type KeyLayout } from "./key-layout";
import { NodeLeases } from "./node-leases";
import { DEFAULT_ETCD_REQUEST_TIMEOUT_MS } from "./client/etcd-client";
import { ETCD_CONNECT_TIMEOUT_MS, instanceLeaseSecondsOf, SNAPSHOT_PAGE_SIZE, type EtcdStoreSettings } from "./settings";

export type { InstanceChange };

export interface ClusterLinkOptions extends EtcdStoreSettings {
  nodeId: string;
  historySize: number;
  now: () => number;
  logger?: Logger;
  /** The instances as loaded at start (at startRevision). */
  onLoad(changes: InstanceChange[]): void;
  /** Every instance change the watch delivers, in revision order. */
  onChange(change: InstanceChange): void;
  /**
   * The instances as reloaded at `revision` after etcd compacted past this node's
   * watch (an outage longer than the compaction window): the view starts over.
   */
  onReload(changes: InstanceChange[], revision: number): void;
  /** etcd is back after `outageMs`: held deadlines move by as much. */
  onOutageEnded(outageMs: number): void;
  knownInstance(serviceName: string, instanceId: string): InstanceView | undefined;
  heldBy(nodeId: string): StoredInstance[];
  /** Every node that holds an instance in the view. */
  holders(): Iterable<string>;
}

export class ClusterLink {
  readonly members = new Set<string>();
  /** The sinks each live node publishes to, as its membership key says. */
  private readonly sinksOf = new Map<string, readonly string[]>();
  private readonly membersListeners = new Set<() => void>();
  private readonly lifetime = new AbortController();
  private readonly waiters = new Set<{ revision: number; resolve: () => void }>();
  private seen: number;
  private up = true;
  private outageStartedAt = 0;
  private readonly catchUp: CatchUp;

  private constructor(
    readonly client: EtcdClient,
    readonly layout: KeyLayout,
    private readonly options: ClusterLinkOptions,
    readonly startRevision: number,
    /** This node's membership and instance leases. */
    readonly leases: NodeLeases,
  ) {
    this.seen = startRevision;
    this.catchUp = new CatchUp({
      seen: () => this.seen,
      writeMark: async (signal) => {
        // On the membership lease: the mark goes when the node does (a fresh lease after a rejoin is picked up on retry).
        const put = await client.put({ key: layout.catchUpMarkKey(options.nodeId), value: new Uint8Array(), lease: leases.membership }, { signal, timeoutMs: WRITE_ATTEMPT_TIMEOUT_MS });
        return Number(put.header!.revision);
      },
      now: options.now,
      signal: this.lifetime.signal,
      logger: options.logger,
    });
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get historySize(): number {
    return this.options.historySize;
  }

  get available(): boolean {
    return this.up;
  }

  /** How long etcd has been unreachable (0 while reachable). */
  unavailableForMs(): number {
    return this.up ? 0 : this.options.now() - this.outageStartedAt;
  }

  /** Whether the view has caught up with etcd (see catch-up.ts), and why not. */
  get sync(): SyncState {
    return this.catchUp.state;
  }

  /** Hears each change between caught up (true) and behind etcd (false). */
  onSync(listener: (inSync: boolean) => void): () => void {
    return this.catchUp.onChange(listener);
  }

  /** Connects and loads; `construct` builds the store on the link before anything is delivered to it. */
  static async connect(options: ClusterLinkOptions, construct: (link: ClusterLink) => void): Promise<ClusterLink> {
    const client = createEtcdClient({ target: await grpcTargetOf(parseEtcdEndpoints(options.endpoints)) });
    const layout = keyLayout(options.prefix);
    try {
      await client.range({ key: utf8(options.prefix), limit: 1n, countOnly: true }, { timeoutMs: ETCD_CONNECT_TIMEOUT_MS });
    } catch (error) {
      client.close();
      throw new Error(`ETCD_ENDPOINTS: no etcd member answered at ${options.endpoints} within ${ETCD_CONNECT_TIMEOUT_MS} ms (${error instanceof Error ? error.message : String(error)})`);
    }
    const leases = await NodeLeases.grant(client, { membershipTtlSeconds: options.nodeTtlSeconds, instanceTtlSeconds: instanceLeaseSecondsOf(options), nodeId: options.nodeId, logger: options.logger });
    const { revision, changes, members } = await load(client, layout);
    const link = new ClusterLink(client, layout, options, revision, leases);
    link.setMembers(members);
    construct(link);
    options.onLoad(changes);
    await link.join(leases.membership);
    leases.keepAlive(link.lifetime.signal, (membershipLease) => link.join(membershipLease));
    void link.watchLoop();
    void link.adoptOrphans(true);
    return link;
  }

  /** Resolves once this node's view has taken in `revision` (or after the request timeout: a slow watch must not hang a write). */
  caughtUp(revision: number): Promise<void> {
    if (this.seen >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { revision, resolve: () => (clearTimeout(timer), this.waiters.delete(waiter), resolve()) };
      const timer = setTimeout(waiter.resolve, DEFAULT_ETCD_REQUEST_TIMEOUT_MS);
      timer.unref();
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.lifetime.abort();
    for (const waiter of [...this.waiters]) waiter.resolve();
    // Leaving at once lets the survivors adopt this node's instances now, not a membership TTL later.
    await this.client.leaseRevoke({ id: this.leases.membership }, { timeoutMs: 1_000 }).catch(() => undefined);
    this.client.close();
  }

  /** Puts this node's membership key on `membershipLease` (at start, and after etcd dropped the previous lease). */
  private async join(membershipLease: bigint): Promise<void> {
    await this.client.put({ key: this.layout.nodeKey(this.options.nodeId), value: utf8(JSON.stringify({ nodeId: this.options.nodeId, sinks: this.options.sinks })), lease: membershipLease });
    this.members.add(this.options.nodeId);
    this.sinksOf.set(this.options.nodeId, this.options.sinks);
    this.membersChanged();
  }

  /** The live nodes that publish to `sink`. */
  membersPublishing(sink: string): Set<string> {
    const publishing = new Set<string>();
    for (const member of this.members) if (this.sinksOf.get(member)?.includes(sink) === true) publishing.add(member);
    return publishing;
  }

  private setMembers(members: readonly { nodeId: string; sinks: readonly string[] }[]): void {
    this.members.clear();
    this.sinksOf.clear();
    for (const { nodeId, sinks } of members) {
      this.members.add(nodeId);
      this.sinksOf.set(nodeId, sinks);
    }
  }

  /** Hears each change of the live nodes (a node joined or left, or the view was reloaded). */
  onMembersChange(listener: () => void): () => void {
    this.membersListeners.add(listener);
    return () => this.membersListeners.delete(listener);
  }

  private membersChanged(): void {
    for (const listener of [...this.membersListeners]) {
      try {
        listener();
      } catch (error) {
        this.options.logger?.error({ err: error }, "a membership listener failed");
      }
    }
  }

  private setAvailable(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (!up) this.outageStartedAt = this.options.now();
    else this.options.onOutageEnded(this.options.now() - this.outageStartedAt);
    this.options.logger?.[up ? "info" : "warn"]({ nodeId: this.options.nodeId }, up ? "etcd reachable again" : "etcd unreachable: serving the last known state");
  }

  private advance(revision: number): void {
    if (revision <= this.seen) return;
    this.seen = revision;
    for (const waiter of [...this.waiters]) if (waiter.revision <= revision) waiter.resolve();
    this.catchUp.advanced(revision);
  }

  /** Follows ETCD_PREFIX from the loaded revision; starts over from a fresh load when etcd compacted past it. */
  private async watchLoop(): Promise<void> {
    let from = this.startRevision;
    while (!this.lifetime.signal.aborted) {
      const compacted = await this.follow(from);
      if (compacted === undefined) return;
      this.options.logger?.warn({ nodeId: this.options.nodeId, compactRevision: compacted, seen: this.seen }, "etcd compacted past this node's watch: reloading the registry and resetting its watchers");
      const reloaded = await this.reload();
      if (reloaded === undefined) return;
      from = reloaded;
    }
  }

  /**
   * Loads the registry again, retrying with backoff until etcd answers (or the
   * link closes): the view, the members and the watch all start over at its revision.
   */
  private async reload(): Promise<number | undefined> {
    const backoff = createBackoff({ initialMs: 100, maxMs: 2_000 });
    const { signal } = this.lifetime;
    while (!signal.aborted) {
      try {
        const { revision, changes, members } = await load(this.client, this.layout);
        if (signal.aborted) return undefined;
        this.setMembers(members);
        this.options.onReload(changes, revision);
        this.advance(revision);
        this.membersChanged();
        void this.adoptOrphans(false);
        return revision;
      } catch (error) {
        this.options.logger?.warn({ err: error }, "reloading the registry from etcd failed; retrying");
        await sleep(backoff.next(), signal);
      }
    }
    return undefined;
  }

  /** Delivers the watch from `from` + 1 until the link closes (undefined) or etcd compacted past it (the compact revision). */
  private async follow(from: number): Promise<number | undefined> {
    const watch = watchRange(this.client, { ...this.layout.all, startRevision: from + 1, signal: this.lifetime.signal, prevKv: true, progressNotify: true });
    for await (const item of watch) {
      switch (item.t) {
        case "connected":
          this.setAvailable(true);
          this.catchUp.connected(item.revision);
          break;
        case "disconnected":
          this.setAvailable(false);
          this.catchUp.watchLost();
          break;
        case "progress":
          if (item.vouched) this.advance(item.revision);
          break;
        case "compacted":
          // Only after an outage longer than etcd's compaction window: the events in between are gone.
          this.catchUp.resyncing();
          return item.compactRevision;
        case "events": {
          let nodesLeft = false;
          for (const event of item.events) {
            const change = decodeChange(this.layout, event, this.options.knownInstance, this.options.now());
            if (change.t === "instance") this.options.onChange(change);
            else if (change.t === "node-up") {
              const moved = !this.members.has(change.nodeId) || String(this.sinksOf.get(change.nodeId)) !== String(change.sinks);
              this.members.add(change.nodeId);
              this.sinksOf.set(change.nodeId, change.sinks);
              // At once, before the batch's next change: what listeners decide per change (the sinks' owner) follows the membership of its revision.
              if (moved) this.membersChanged();
            } else if (change.t === "node-down") {
              this.members.delete(change.nodeId);
              this.sinksOf.delete(change.nodeId);
              nodesLeft = true;
              this.membersChanged();
            }
          }
          this.advance(item.revision);
          if (nodesLeft) void this.adoptOrphans(false);
          break;
        }
      }
    }
    return undefined;
  }

  /**
   * Instances whose holder is not a live node get one adopter: the survivor that
   * creates the dead node's adoption key first. Each instance moves with a txn on
   * its mod revision, so a client's heartbeat that moved it first wins.
   * At start, this node also takes back what it held under the same DISCOVERY_NODE_ID.
   */
  private async adoptOrphans(atStart: boolean): Promise<void> {
    const me = this.options.nodeId;
    const holders = new Set<string>();
    for (const holder of this.options.holders()) if (!this.members.has(holder) || (atStart && holder === me)) holders.add(holder);
    for (const dead of holders) {
      try {
        const won = dead === me || (await createIfAbsent(this.client, this.layout.adoptionKey(dead), utf8(me), this.leases.membership));
        if (!won) continue;
        let adopted = 0;
        for (const stored of this.options.heldBy(dead)) {
          const { serviceName, instanceId } = stored.instance;
          const value = encodeRecord({ holder: me, instance: stored.instance });
          const result = await this.leases.withInstanceLease((lease) => guardedWriteWithRetry(this.client, this.layout.instanceKey(serviceName, instanceId), stored.revision, { t: "put", value, lease }));
          if (result.ok) adopted++;
        }
        if (dead !== me) await this.client.deleteRange({ key: this.layout.adoptionKey(dead) });
        this.options.logger?.info({ nodeId: me, from: dead, adopted }, "adopted the instances of a node that left");
      } catch (error) {
        this.options.logger?.warn({ err: error, from: dead }, "adoption failed; retried when membership changes");
      }
    }
  }
}

/** The instances and members at one revision, paged so no response grows past ETCD_MAX_RECEIVE_BYTES. */
async function load(client: EtcdClient, layout: KeyLayout): Promise<{ revision: number; changes: InstanceChange[]; members: { nodeId: string; sinks: readonly string[] }[] }> {
  const first = await client.range({ key: layout.nodes.key, rangeEnd: layout.nodes.rangeEnd });
  const revision = Number(first.header!.revision);
  const members = first.kvs.flatMap((kv) => {
    const key = layout.parse(kv.key);
    return key.t === "node" ? [{ nodeId: key.nodeId, sinks: sinksOfMember(kv.value) }] : [];
  });
  const changes: InstanceChange[] = [];
  let from = layout.instances.key;
  for (;;) {
    const page = await client.range({ key: from, rangeEnd: layout.instances.rangeEnd, revision: BigInt(revision), limit: BigInt(SNAPSHOT_PAGE_SIZE) });
    for (const kv of page.kvs) {
      const key = layout.parse(kv.key);
      const record = decodeRecord(kv.value);
      if (key.t !== "instance" || record === undefined || record.removed) continue;
      changes.push({ serviceName: key.serviceName, instanceId: key.instanceId, revision: Number(kv.modRevision), next: record.instance, holder: record.holder, lease: kv.lease, event: undefined });
    }
    if (!page.more || page.kvs.length === 0) break;
    from = new Uint8Array([...page.kvs[page.kvs.length - 1]!.key, 0]);
  }
  return { revision, changes, members };
}
