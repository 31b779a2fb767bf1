// The xDS resources of every service, kept current from one Watch
// subscription on the hub (snapshot, then events; a RESET starts over), so any
// node serves xDS from its own view of the registry. Events only update the
// instance maps and are coalesced per service and per turn of the event loop;
// a service's resources are rebuilt when a stream asks for them (never for a
// service no client follows), once per change, and shared, as the same Any
// objects, by every stream that sends them. A service that loses its last
// instance keeps its resources, with no endpoints, for a while and while a
// stream follows it by name: clients fail calls at once, keep their watches,
// and resume as soon as an instance registers, also after they reconnect or
// move to another node (deleting the Listener and Cluster instead left
// grpc-js-xds failing for good). A name that never had instances does not exist.
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import type { InstanceView } from "../../core/types";
import type { WatchHub } from "../../watch/watch-hub";
import type { WatchItem } from "../../watch/subscription";
import { AddressBook, type AddressBookOptions } from "./address-book";
import { DEFAULT_EMPTY_SERVICE_RETAIN_MS, DEFAULT_MAX_EMPTY_SERVICES } from "./xds-defaults";
import { planEndpoints } from "./endpoints";
import { clusterResource, endpointResource, listenerResource, routeResource, TYPE, type LbPolicyName, type TypeUrl } from "./resources";

/** One service's resources, as last built; stale once its instances changed. */
interface ServiceResources {
  readonly byType: Readonly<Record<TypeUrl, Any>>;
  readonly fingerprint: string;
  stale: boolean;
}

/** Hears that `name`'s resources changed (or vanished), and since when. */
export type CatalogListener = (name: string, since: number) => void;

export interface XdsCatalogOptions {
  hub: WatchHub;
  lbPolicy: LbPolicyName;
  logger: Logger;
  signal: AbortSignal;
  dns?: Pick<AddressBookOptions, "refreshMs" | "maxHosts" | "maxLookups" | "lookupTimeoutMs" | "lookup" | "timers">;
  /** Services that lost their last instance: kept at least `retainMs` and while followed, at most `max`. */
  emptyServices?: { retainMs?: number | undefined; max?: number | undefined };
  now?: () => number;
}

export class XdsCatalog {
  private instances = new Map<string, Map<string, InstanceView>>();
  /** Instances of a snapshot being received after a RESET, swapped in at SYNCED. */
  private staging: Map<string, Map<string, InstanceView>> | undefined;
  private readonly resources = new Map<string, ServiceResources>();
  private readonly dirty = new Map<string, number>();
  /** How many stream subscriptions name each service (bounded by streams × 4 types × XDS_MAX_RESOURCES_PER_STREAM). */
  private readonly followers = new Map<string, number>();
  /** Services whose last instance left, and when (oldest first): served with no endpoints until one registers, or until forgotten. */
  private readonly emptied = new Map<string, number>();
  private readonly emptyRetainMs: number;
  private readonly maxEmpty: number;
  private readonly now: () => number;
  /** The registry revision of the last item applied to `instances`. */
  private appliedRevision = 0;
  /** The revision streams are told (as their version_info): advanced when changes are published, so it never runs ahead of them. */
  private publishedRevision = 0;
  /** Counts the publications: any resource may differ after one (a registry change, or a hostname's new address). */
  private publications = 0;
  private flushScheduled = false;
  private readonly listeners = new Set<CatalogListener>();
  private readonly addresses: AddressBook;
  private readonly lbPolicy: LbPolicyName;
  private readonly logger: Logger;

  constructor(options: XdsCatalogOptions) {
    this.lbPolicy = options.lbPolicy;
    this.logger = options.logger;
    this.emptyRetainMs = options.emptyServices?.retainMs ?? DEFAULT_EMPTY_SERVICE_RETAIN_MS;
    this.maxEmpty = options.emptyServices?.max ?? DEFAULT_MAX_EMPTY_SERVICES;
    this.now = options.now ?? Date.now;
    this.addresses = new AddressBook({
      ...options.dns,
      logger: options.logger,
      signal: options.signal,
      onChange: (host) => this.hostChanged(host),
      hostsInUse: () => this.hostsInUse(),
    });
    const subscription = options.hub.subscribe({ services: [], sinceRevision: 0, internal: true });
    const control = subscription.attach({
      write: (item) => {
        this.apply(item);
        return true;
      },
      end: () => {},
    });
    options.signal.addEventListener("abort", () => control.cancel(), { once: true });
  }

  /** The resource of `type` named `name`, or undefined when there is no such service. */
  get(type: TypeUrl, name: string): Any | undefined {
    const of = this.instances.get(name) ?? (this.emptied.has(name) ? NO_INSTANCES : undefined);
    if (of === undefined) return undefined;
    const built = this.resources.get(name);
    return (built === undefined || built.stale ? this.rebuild(name, of, built) : built).byType[type];
  }

  /** The registry revision the resources reflect: every change up to it has been published to the listeners. */
  revision(): number {
    return this.publishedRevision;
  }

  /** Changes whenever a resource may have changed since the last call. */
  generation(): number {
    return this.publications;
  }

  /** Every service with instances, and those kept after losing them (for wildcard subscriptions). */
  names(): Iterable<string> {
    return this.emptied.size === 0 ? this.instances.keys() : [...this.instances.keys(), ...this.emptied.keys()];
  }

  follow(names: Iterable<string>): void {
    for (const name of names) this.followers.set(name, (this.followers.get(name) ?? 0) + 1);
  }

  unfollow(names: Iterable<string>): void {
    for (const name of names) {
      const count = (this.followers.get(name) ?? 0) - 1;
      if (count > 0) {
        this.followers.set(name, count);
        continue;
      }
      this.followers.delete(name);
    }
    this.forgetEmptied();
  }

  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(item: WatchItem): void {
    this.appliedRevision = item.t === "event" ? item.event.revision : item.revision;
    this.scheduleFlush();
    switch (item.t) {
      case "reset":
        this.staging = new Map();
        return;
      case "snapshot": {
        const target = this.staging ?? this.instances;
        place(target, item.instance);
        if (this.staging === undefined) {
          this.emptied.delete(item.instance.serviceName);
          this.markDirty(item.instance.serviceName);
        }
        return;
      }
      case "synced":
        if (this.staging !== undefined) {
          const before = this.instances;
          this.instances = this.staging;
          this.staging = undefined;
          for (const name of new Set([...before.keys(), ...this.instances.keys()])) {
            if (this.instances.has(name)) this.emptied.delete(name);
            else this.markEmptied(name);
            this.markDirty(name);
          }
        }
        return;
      case "event": {
        const { type, instance } = item.event;
        if (type === "unregistered" || type === "expired") {
          const of = this.instances.get(instance.serviceName);
          of?.delete(instance.instanceId);
          if (of?.size === 0) {
            this.instances.delete(instance.serviceName);
            this.markEmptied(instance.serviceName);
          }
        } else {
          place(this.instances, instance);
          this.emptied.delete(instance.serviceName);
        }
        this.markDirty(instance.serviceName);
      }
    }
  }

  /** `name` lost its last instance: kept, with no endpoints, from now. */
  private markEmptied(name: string): void {
    this.emptied.delete(name); // to the end: the newest
    this.emptied.set(name, this.now());
  }

  /**
   * Forgets the emptied services kept past XDS_EMPTY_SERVICE_RETAIN_SECONDS that
   * no stream follows, and past XDS_MAX_EMPTY_SERVICES the oldest (followed or
   * not): wildcard subscribers hear that they are gone.
   */
  private forgetEmptied(): void {
    const cutoff = this.now() - this.emptyRetainMs;
    let over = this.emptied.size - this.maxEmpty;
    for (const [name, since] of this.emptied) {
      if (over <= 0 && since > cutoff) break; // oldest first: the rest are younger
      if (over > 0 || !this.followers.has(name)) {
        this.emptied.delete(name);
        over--;
        this.markDirty(name);
      }
    }
  }

  private hostsInUse(): Set<string> {
    const hosts = new Set<string>();
    for (const of of this.instances.values()) for (const instance of of.values()) hosts.add(instance.host);
    return hosts;
  }

  private hostChanged(host: string): void {
    for (const [name, of] of this.instances) {
      for (const instance of of.values()) {
        if (instance.host === host) {
          this.markDirty(name);
          break;
        }
      }
    }
  }

  private markDirty(name: string): void {
    if (!this.dirty.has(name)) this.dirty.set(name, performance.now());
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.forgetEmptied();
    // Before the listeners run: the responses they cause carry this revision.
    this.publishedRevision = this.appliedRevision;
    const changed = [...this.dirty];
    if (changed.length > 0) this.publications++;
    this.dirty.clear();
    for (const [name] of changed) {
      const built = this.resources.get(name);
      if (built !== undefined) built.stale = true;
      if (!this.instances.has(name) && !this.emptied.has(name)) this.resources.delete(name);
    }
    for (const [name, since] of changed) {
      for (const listener of this.listeners) {
        try {
          listener(name, since);
        } catch (error) {
          this.logger.error({ err: error, serviceName: name }, "xDS: a stream failed to take a change");
        }
      }
    }
  }

  /** Builds one service's resources; keeps the previous objects when what clients see did not change. */
  private rebuild(name: string, of: ReadonlyMap<string, InstanceView>, before: ServiceResources | undefined): ServiceResources {
    const localities = planEndpoints(of.values(), (host) => this.addresses.resolve(host));
    const fingerprint = JSON.stringify(localities);
    if (before !== undefined && before.fingerprint === fingerprint) {
      before.stale = false;
      return before;
    }
    const byType: Record<TypeUrl, Any> =
      before === undefined
        ? {
            [TYPE.listener]: listenerResource(name),
            [TYPE.route]: routeResource(name),
            [TYPE.cluster]: clusterResource(name, this.lbPolicy),
            [TYPE.endpoint]: endpointResource(name, localities),
          }
        : { ...before.byType, [TYPE.endpoint]: endpointResource(name, localities) };
    const built: ServiceResources = { byType, fingerprint, stale: false };
    this.resources.set(name, built);
    return built;
  }
}

const NO_INSTANCES: ReadonlyMap<string, InstanceView> = new Map();

function place(target: Map<string, Map<string, InstanceView>>, instance: InstanceView): void {
  let of = target.get(instance.serviceName);
  if (of === undefined) target.set(instance.serviceName, (of = new Map()));
  of.set(instance.instanceId, instance);
}
