// healthyView(): what a gateway holds. One Watch keeps a live set of a
// service's instances; the view is the serving ones (HEALTHY or DEGRADED).
// A fresh snapshot (at start, after a RESET) is staged and swapped in whole at
// SYNCED, so readers never see half a state; while the registry is unreachable
// the last known set stays.
import { EventType, HealthStatus, type Instance } from "../../gen/discovery/v1/discovery_pb";
import type { BackoffOptions } from "./backoff";
import type { ConnectionOptions, DiscoveryConnection } from "./connection";
import type { ClientLogger } from "./util";
import { watch } from "./watch";

export interface HealthyViewOptions extends ConnectionOptions {
  /**
   * Leave out instances at critical load while at least one other serving
   * instance remains (when all are critical, all stay). Default false.
   */
  avoidCriticalLoad?: boolean;
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  logger?: ClientLogger;
  /** Called each time the Watch breaks (the view keeps its last set meanwhile). */
  onDisconnect?: (error: unknown) => void;
  connection?: DiscoveryConnection;
}

export type HealthyViewListener = (instances: readonly Instance[]) => void;

export interface HealthyView {
  readonly service: string;
  /** The serving instances now; a new frozen array after every change, in instance-id order. */
  readonly instances: readonly Instance[];
  /** True once the first snapshot is complete. */
  readonly synced: boolean;
  /** Resolves at the first complete snapshot. */
  ready(): Promise<void>;
  /**
   * Calls `listener` after each change of `instances`; returns the unsubscribe.
   * A listener that throws changes nothing for the view or the other listeners:
   * its error goes to the logger (and is dropped when there is none).
   */
  onChange(listener: HealthyViewListener): () => void;
  /** Stops the Watch. */
  close(): void;
}

export function healthyView(service: string, options: HealthyViewOptions): HealthyView {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const listeners = new Set<HealthyViewListener>();
  let live = new Map<string, Instance>();
  let staging: Map<string, Instance> | undefined = new Map();
  let current: readonly Instance[] = Object.freeze([]);
  let fingerprint = "";
  let synced = false;
  let markReady!: () => void;
  let failReady!: (error: unknown) => void;
  const readyPromise = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
  readyPromise.catch(() => {});

  const publish = () => {
    const next = select([...live.values()], options.avoidCriticalLoad === true);
    const print = next.map((i) => `${i.instanceId}@${i.host}:${i.port}:${i.status}:${i.criticalLoad}`).join(",");
    if (print === fingerprint) return;
    fingerprint = print;
    current = Object.freeze(next);
    for (const listener of listeners) {
      // The view belongs to every reader: one listener's bug must not end the
      // Watch (its exception would reject run()) nor hide the change from the others.
      try {
        listener(current);
      } catch (error) {
        options.logger?.error({ err: error, service }, "healthy view listener threw");
      }
    }
  };

  const run = async () => {
    const events = watch({ ...options, services: [service], signal: stop.signal });
    for await (const event of events) {
      const instance = event.instance;
      switch (event.type) {
        case EventType.RESET:
          staging = new Map();
          break;
        case EventType.SYNCED:
          if (staging !== undefined) {
            live = staging;
            staging = undefined;
          }
          if (!synced) {
            synced = true;
            markReady();
          }
          break;
        case EventType.UNREGISTERED:
        case EventType.EXPIRED:
          (staging ?? live).delete(instance!.instanceId);
          break;
        default:
          if (instance !== undefined) (staging ?? live).set(instance.instanceId, instance);
      }
      if (staging === undefined) publish();
    }
  };
  run().then(
    () => failReady(new Error("healthy view closed before its first snapshot")),
    (error: unknown) => {
      options.logger?.error({ err: error, service }, "healthy view stopped");
      failReady(error);
    },
  );

  return {
    service,
    get instances() {
      return current;
    },
    get synced() {
      return synced;
    },
    ready: () => readyPromise,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      options.signal?.removeEventListener("abort", onAbort);
      stop.abort();
    },
  };
}

function isServing(instance: Instance): boolean {
  return instance.status === HealthStatus.HEALTHY || instance.status === HealthStatus.DEGRADED;
}

function select(instances: Instance[], avoidCritical: boolean): Instance[] {
  let serving = instances.filter(isServing);
  if (avoidCritical) {
    const normal = serving.filter((i) => !i.criticalLoad);
    if (normal.length > 0) serving = normal;
  }
  return serving.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
}
