// The cluster-mode store (DISCOVERY_STORE=etcd): the registry lives in etcd and
// every node keeps a LocalView of it, fed by one watch of ETCD_PREFIX. Revisions
// are etcd revisions; a write is a txn guarded by the instance's mod revision and
// resolves once this node's watch delivered it. The node holding an instance's
// lease keeps its deadline and soft state in memory (heartbeats write nothing),
// replicating the load only when it moved LOAD_REPLICATION_STEP or every
// LOAD_REPLICATION_INTERVAL_SECONDS.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { DiscoveryError } from "../../core/errors";
import { LeaseQueue } from "../../core/lease-queue";
import { StoreConflictError, type Refresh, type RegistryStore, type ReplayAnswer, type StoreWrite, type StoredInstance } from "../../core/store";
import type { InstanceView, RegistryEvent } from "../../core/types";
import { LocalView } from "../local-view";
import { ClusterLink, type ClusterLinkOptions, type InstanceChange } from "./cluster-link";
import { EtcdError } from "./client/etcd-error";
import { encodeRecord, type InstanceRecord } from "./instance-record";
import { guardedWrite, guardedWriteWithRetry } from "./etcd-writes";
import { replayFromEtcd } from "./history-replay";
import { rendezvousOwner } from "./rendezvous";
import { handOverLease, passingProberElsewhere, rehangOnOwnLease } from "./lease-handover";
import { DEFAULT_ETCD_STORE_SETTINGS, type EtcdStoreSettings } from "./settings";

export interface EtcdStoreOptions extends Partial<EtcdStoreSettings> {
  historySize: number;
  now: () => number;
  logger?: Logger;
}

/** After etcd has been unreachable this long, writes stop retrying and fail at once. */
export const OUTAGE_FAIL_FAST_AFTER_MS = 2_000;
/** A lease handover that failed (etcd trouble) is judged again this much later. */
export const HANDOVER_RETRY_MS = 1_000;

const keyOf = (serviceName: string, instanceId: string) => `${serviceName}/${instanceId}`;

/** A SoftState field left undefined keeps its value (the port's rule). */
function definedOnly<T extends object>(soft: T): Partial<T> {
  return Object.fromEntries(Object.entries(soft).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Domain error for any etcd failure: UNAVAILABLE on the wire, naming etcd. */
function unavailable(error: unknown): DiscoveryError {
  if (error instanceof DiscoveryError || error instanceof StoreConflictError) return error as DiscoveryError;
  return new DiscoveryError("unavailable", `etcd is unavailable: ${error instanceof Error ? error.message : String(error)}`);
}

export class EtcdStore extends LocalView implements RegistryStore {
  /** Deadlines of the instances this node holds. */
  private readonly leases = new LeaseQueue<string>();
  /** The holder of every instance in the view. */
  private readonly holders = new Map<string, string>();
  /** The load last written to etcd per held instance, and when. */
  private readonly replicated = new Map<string, { load: number; at: number }>();

  private constructor(
    private readonly link: ClusterLink,
    private readonly settings: EtcdStoreSettings & { nodeId: string },
    private readonly now: () => number,
    private readonly logger: Logger | undefined,
  ) {
    super({ baseRevision: link.startRevision, historySize: link.historySize });
  }

  /** Connects, loads the registry, joins the cluster. Throws naming ETCD_ENDPOINTS when no member answers. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const settings = { ...DEFAULT_ETCD_STORE_SETTINGS, ...options, nodeId: options.nodeId ?? randomUUID() };
    let store: EtcdStore | undefined;
    const linkOptions: ClusterLinkOptions = {
      ...settings,
      historySize: options.historySize,
      now: options.now,
      logger: options.logger,
      onLoad: (changes) => store!.seedAll(changes),
      onChange: (c) => store!.takeChange(c),
      onReload: (changes, revision) => store!.reload(changes, revision),
      onOutageEnded: (outageMs) => store!.extendDeadlines(outageMs),
      knownInstance: (serviceName, instanceId) => store?.get(serviceName, instanceId),
      heldBy: (nodeId) => store!.heldBy(nodeId),
      holders: () => new Set(store!.holders.values()),
    };
    const link = await ClusterLink.connect(linkOptions, (l) => {
      store = new EtcdStore(l, settings, options.now, options.logger);
    });
    return store!;
  }

  /**
   * A failed write is retried (a member down, a leader election, the watch
   * reconnecting elsewhere) unless etcd has been unreachable for a while: then
   * it fails at once, UNAVAILABLE, instead of holding every caller for the budget.
   */
  private readonly worthRetrying = () => this.link.unavailableForMs() < OUTAGE_FAIL_FAST_AFTER_MS;

  get nodeId(): string {
    return this.settings.nodeId;
  }

  /** False while etcd is unreachable: reads serve the last state, writes fail UNAVAILABLE. */
  get available(): boolean {
    return this.link.available;
  }

  /** True once this node's view has caught up with etcd; false while unreachable, catching up or reloading. */
  get inSync(): boolean {
    return this.link.sync.t === "current";
  }

  onSync(listener: (inSync: boolean) => void): () => void {
    return this.link.onSync(listener);
  }

  /** The live nodes (membership keys), this one included. */
  get members(): ReadonlySet<string> {
    return this.link.members;
  }

  /** The live nodes that publish to `sink` (as their membership keys say), this one included if it does. */
  membersPublishing(sink: string): ReadonlySet<string> {
    return this.link.membersPublishing(sink);
  }

  /** Hears each change of the live nodes. */
  onMembersChange(listener: () => void): () => void {
    return this.link.onMembersChange(listener);
  }

  /** How long a node that died stays a member: its membership lease. */
  get nodeTtlMs(): number {
    return this.settings.nodeTtlSeconds * 1000;
  }

  /** True when this node is the one that probes the instance (rendezvous hashing over the live nodes). */
  probesHere(serviceName: string, instanceId: string): boolean {
    return rendezvousOwner(keyOf(serviceName, instanceId), this.link.members) === this.settings.nodeId;
  }

  holderOf(serviceName: string, instanceId: string): string | undefined {
    return this.holders.get(keyOf(serviceName, instanceId));
  }

  async apply(write: StoreWrite, options: { signal?: AbortSignal } = {}): Promise<readonly RegistryEvent[]> {
    const { serviceName, instanceId } = write;
    const key = this.link.layout.instanceKey(serviceName, instanceId);
    const ops = this.plan(write);
    const events: RegistryEvent[] = [];
    let expect = write.expectRevision;
    try {
      for (const [i, op] of ops.entries()) {
        const record = op.record;
        const result = await this.link.leases.withInstanceLease((lease) => guardedWriteWithRetry(this.link.client, key, expect, record === undefined ? { t: "delete" } : { t: "put", value: encodeRecord(record), lease }, { signal: options.signal, worthRetrying: this.worthRetrying }));
        if (!result.ok) {
          if (i === 0) throw new StoreConflictError(serviceName, instanceId, write.expectRevision, result.actual);
          break; // someone took over mid-write (a removal's delete after its mark): what was written stands
        }
        expect = result.revision;
        const event = op.record?.event;
        if (event !== undefined) events.push({ revision: result.revision, type: event.type, instance: op.record!.instance, previousStatus: event.previousStatus, occurredAt: event.occurredAt });
      }
    } catch (error) {
      throw unavailable(error);
    }
    const k = keyOf(serviceName, instanceId);
    if (write.next === undefined) {
      this.leases.delete(k);
      this.replicated.delete(k);
    } else {
      const deadline = write.leaseDeadline ?? this.leases.deadlineOf(k) ?? this.now() + write.next.ttlMs;
      this.leases.set(k, deadline);
      this.replicated.set(k, { load: write.next.load, at: this.now() });
    }
    await this.link.caughtUp(expect);
    return events;
  }

  /** One etcd op per step (each event gets its own etcd revision); a removal is its mark, then the delete. */
  private plan(write: StoreWrite): { record: InstanceRecord | undefined }[] {
    const holder = this.settings.nodeId;
    const ops: { record: InstanceRecord | undefined }[] = [];
    write.steps.forEach((step, i) => {
      const event = { type: step.type, previousStatus: step.previousStatus, occurredAt: write.occurredAt };
      const last = i === write.steps.length - 1;
      if (last && write.next === undefined) ops.push({ record: { holder, instance: step.instance, event, removed: true } });
      else ops.push({ record: { holder, instance: last ? write.next! : step.instance, event } });
    });
    if (write.steps.length === 0 && write.next !== undefined) ops.push({ record: { holder, instance: write.next } });
    if (write.next === undefined) ops.push({ record: undefined });
    return ops;
  }

  refresh(serviceName: string, instanceId: string, refresh: Refresh): InstanceView | undefined | Promise<InstanceView | undefined> {
    const k = keyOf(serviceName, instanceId);
    const holder = this.holders.get(k);
    if (holder === undefined) return undefined;
    if (holder === this.settings.nodeId) {
      const instance = this.soften(serviceName, instanceId, refresh.soft);
      if (instance !== undefined && refresh.leaseDeadline !== undefined) this.leases.set(k, refresh.leaseDeadline);
      if (instance !== undefined) this.maybeReplicateLoad(k, instance);
      return instance;
    }
    // A probe result on the node that probes (rendezvous) but does not hold the lease: kept
    // here without a write, so probes and heartbeats on different nodes do not bounce the lease.
    if (refresh.soft.lastHeartbeat === undefined) return this.soften(serviceName, instanceId, refresh.soft);
    return this.takeLease(serviceName, instanceId, refresh);
  }

  /** A heartbeat reached a node that does not hold the instance: move the lease here, in one write. */
  private async takeLease(serviceName: string, instanceId: string, refresh: Refresh): Promise<InstanceView | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = this.entry(serviceName, instanceId);
      if (stored === undefined) return undefined;
      const instance: InstanceView = Object.freeze({ ...this.get(serviceName, instanceId)!, ...definedOnly(refresh.soft) });
      const k = keyOf(serviceName, instanceId);
      let result;
      try {
        const value = encodeRecord({ holder: this.settings.nodeId, instance });
        result = await this.link.leases.withInstanceLease((lease) => guardedWriteWithRetry(this.link.client, this.link.layout.instanceKey(serviceName, instanceId), stored.revision, { t: "put", value, lease }, { worthRetrying: this.worthRetrying }));
      } catch (error) {
        throw unavailable(error);
      }
      if (!result.ok) {
        await this.link.caughtUp(result.actual);
        continue;
      }
      this.leases.set(k, refresh.leaseDeadline ?? this.now() + instance.ttlMs);
      this.replicated.set(k, { load: instance.load, at: this.now() });
      await this.link.caughtUp(result.revision);
      return this.get(serviceName, instanceId);
    }
    throw new DiscoveryError("unavailable", `etcd: the lease of ${instanceId} kept moving; try again`);
  }

  /** Writes the load when it moved by the step, or changed and the interval passed; never on the caller's path. */
  private maybeReplicateLoad(k: string, instance: InstanceView): void {
    if (!instance.loadReported) return;
    const last = this.replicated.get(k);
    const now = this.now();
    if (last !== undefined) {
      const moved = Math.abs(instance.load - last.load);
      if (moved === 0) return;
      if (moved < this.settings.loadReplicationStep && now - last.at < this.settings.loadReplicationIntervalMs) return;
    }
    this.replicated.set(k, { load: instance.load, at: now });
    const stored = this.entry(instance.serviceName, instance.instanceId);
    if (stored === undefined || !this.link.available) return;
    const value = encodeRecord({ holder: this.settings.nodeId, instance });
    void this.link.leases.withInstanceLease((lease) => guardedWrite(this.link.client, this.link.layout.instanceKey(instance.serviceName, instance.instanceId), stored.revision, { t: "put", value, lease })).catch(() => {
      this.replicated.delete(k); // retried on the next heartbeat
    });
  }

  override eventsSince(revision: number, services?: ReadonlySet<string>): ReplayAnswer | Promise<ReplayAnswer> {
    const local = this.retainedSince(revision, services);
    if (local.t === "replay") return local;
    if (local.reason === "revision-from-future") {
      // Another node may be a few milliseconds ahead of this one: wait for our watch, then answer.
      return this.link.caughtUp(revision).then(() => this.retainedSince(revision, services));
    }
    // Older than this node's memory (e.g. from before its restart): etcd keeps the history until compacted.
    return replayFromEtcd(this.link, revision, this.revision, services, this.now());
  }

  nextDeadline(): number | undefined {
    return this.leases.peek();
  }

  takeExpired(now: number, budget: number): StoredInstance[] {
    // While etcd is unreachable nothing expires: the outage is not the instances' fault.
    if (!this.link.available) return [];
    const due: StoredInstance[] = [];
    while (due.length < budget) {
      const k = this.leases.popDue(now);
      if (k === undefined) break;
      const slash = k.indexOf("/");
      const stored = this.entry(k.slice(0, slash), k.slice(slash + 1));
      if (stored === undefined || this.holders.get(k) !== this.settings.nodeId) continue;
      const prober = passingProberElsewhere(stored.instance, this.link.members, this.settings.nodeId);
      if (prober === undefined) due.push(stored);
      else void this.handOver(k, stored, prober);
    }
    return due;
  }

  /** See lease-handover.ts: the prober's passing probes renew the lease from now on. */
  private async handOver(k: string, stored: StoredInstance, prober: string): Promise<void> {
    const { serviceName, instanceId } = stored.instance;
    let handed = false;
    try {
      handed = await handOverLease(this.link, stored, this.get(serviceName, instanceId) ?? stored.instance, prober, this.worthRetrying);
    } catch (error) {
      this.logger?.warn({ err: error, service: serviceName, instance: instanceId, prober }, "handing a probed instance's lease to its prober failed");
    }
    // etcd trouble, or a newer write of ours (a replicated load) won the race: still ours, judged again shortly.
    if (!handed && this.holders.get(k) === this.settings.nodeId && this.leases.deadlineOf(k) === undefined) this.leases.set(k, this.now() + HANDOVER_RETRY_MS);
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  /** The view follows a change from etcd: the instance, its holder, its event. */
  private takeChange(change: InstanceChange): void {
    const { serviceName, instanceId, next, holder, event, revision } = change;
    const k = keyOf(serviceName, instanceId);
    if (next === undefined || holder === undefined) {
      this.holders.delete(k);
      this.leases.delete(k);
      this.replicated.delete(k);
      if (this.get(serviceName, instanceId) === undefined && event === undefined) return;
    } else {
      this.holders.set(k, holder);
      if (holder !== this.settings.nodeId) {
        this.leases.delete(k);
        this.replicated.delete(k);
      } else if (this.leases.deadlineOf(k) === undefined) {
        // Adopted, handed over (or ours from before a restart): a fresh deadline of its own TTL.
        this.leases.set(k, this.now() + next.ttlMs);
      }
      if (holder === this.settings.nodeId && change.lease !== this.link.leases.instances) void rehangOnOwnLease(this.link, next, revision);
    }
    if (revision < this.revision) return; // loaded before the view's base: already in it
    this.takeIn(serviceName, instanceId, next, event === undefined ? [] : [event], revision);
  }

  private seedAll(changes: readonly InstanceChange[]): void {
    for (const c of changes) {
      if (c.next === undefined || c.holder === undefined) continue;
      const k = keyOf(c.serviceName, c.instanceId);
      this.holders.set(k, c.holder);
      if (c.holder === this.settings.nodeId) this.leases.set(k, this.now() + c.next.ttlMs);
      this.seed({ instance: c.next, revision: c.revision });
    }
  }

  /**
   * Starts the view over from a fresh load (etcd compacted past this node's watch).
   * The instances this node still holds keep their deadlines (a new one of their
   * TTL if they came to it meanwhile); the rest leave its lease queue. Watchers,
   * the prober and health watchers hear it through onResync.
   */
  private reload(changes: readonly InstanceChange[], revision: number): void {
    const loaded: StoredInstance[] = [];
    const heldHere = new Set<string>();
    const heldBefore = [...this.holders].filter(([, holder]) => holder === this.settings.nodeId).map(([k]) => k);
    this.holders.clear();
    for (const c of changes) {
      if (c.next === undefined || c.holder === undefined) continue;
      const k = keyOf(c.serviceName, c.instanceId);
      this.holders.set(k, c.holder);
      if (c.holder === this.settings.nodeId) {
        heldHere.add(k);
        if (this.leases.deadlineOf(k) === undefined) this.leases.set(k, this.now() + c.next.ttlMs);
      }
      loaded.push({ instance: c.next, revision: c.revision });
    }
    for (const k of [...this.replicated.keys()]) if (!heldHere.has(k)) this.replicated.delete(k);
    for (const k of heldBefore) if (!heldHere.has(k)) this.leases.delete(k);
    this.replaceAll(loaded, revision);
  }

  private heldBy(nodeId: string): StoredInstance[] {
    const out: StoredInstance[] = [];
    for (const [k, holder] of this.holders) {
      if (holder !== nodeId) continue;
      const slash = k.indexOf("/");
      const stored = this.entry(k.slice(0, slash), k.slice(slash + 1));
      if (stored !== undefined) out.push(stored);
    }
    return out;
  }

  private extendDeadlines(outageMs: number): void {
    for (const k of this.holders.keys()) {
      const deadline = this.leases.deadlineOf(k);
      if (deadline !== undefined) this.leases.set(k, deadline + outageMs);
    }
  }
}

export { EtcdError };
