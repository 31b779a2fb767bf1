// Serving status per name for grpc.health.v1: the server itself (""), the APIs it
// serves, and every registered service (SERVING while it has a healthy instance).
// Watchers hear only real changes of the name they follow.
import type { RegistryStore } from "../../core/store";
import type { RegistryEvent } from "../../core/types";

export type ServingStatus = "serving" | "not-serving";

type Listener = (status: ServingStatus | undefined) => void;

export class HealthBoard {
  private shuttingDown = false;
  /** False while the store's view may be stale (cluster mode: etcd unreachable, or not yet caught up with it). */
  private storeInSync = true;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly unsubscribe: () => void;

  /**
   * @param serverNames names that report the server itself: "" and the full
   *   names of the gRPC services it serves.
   */
  constructor(
    private readonly store: RegistryStore,
    private readonly serverNames: readonly string[],
    options: { signal?: AbortSignal } = {},
  ) {
    const stopEvents = store.onEvent((event) => this.onRegistryEvent(event));
    // The view replaced without events (etcd, after a compaction): any name may have changed.
    const stopResyncs = store.onResync(() => {
      for (const name of [...this.listeners.keys()]) this.notify(name);
    });
    this.unsubscribe = () => {
      stopEvents();
      stopResyncs();
    };
    // The server's shutdown turns it NOT_SERVING.
    if (options.signal?.aborted === true) this.setShuttingDown();
    else options.signal?.addEventListener("abort", () => this.setShuttingDown(), { once: true });
  }

  /** The status of a name, or undefined when the name is unknown. */
  status(name: string): ServingStatus | undefined {
    if (name === "" || this.serverNames.includes(name)) return this.shuttingDown || !this.storeInSync ? "not-serving" : "serving";
    const summary = this.store.summaryOf(name);
    if (summary === undefined) return undefined;
    return summary.healthyCount > 0 ? "serving" : "not-serving";
  }

  /** Every known name with its status. */
  all(): Map<string, ServingStatus> {
    const out = new Map<string, ServingStatus>();
    for (const name of ["", ...this.serverNames, ...this.store.serviceNames()]) out.set(name, this.status(name)!);
    return out;
  }

  /** Calls `listener` with the name's status each time it may have changed. */
  watch(name: string, listener: Listener): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** The server stops serving: "" and the APIs turn NOT_SERVING; every watcher hears it. */
  setShuttingDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.unsubscribe();
    for (const name of [...this.listeners.keys()]) this.notify(name);
  }

  /** The store fell behind its backend (false) or caught up (true): the server's own names follow. */
  setStoreInSync(inSync: boolean): void {
    if (inSync === this.storeInSync) return;
    this.storeInSync = inSync;
    for (const name of ["", ...this.serverNames]) this.notify(name);
  }

  private onRegistryEvent(event: RegistryEvent): void {
    this.notify(event.instance.serviceName);
  }

  private notify(name: string): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    const status = this.status(name);
    for (const listener of set) listener(status);
  }
}
