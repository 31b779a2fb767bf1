// This node's probe state of the instances it probes: the HealthTracker each
// recordProbe judges with and GetHealthHistory reads. Node-local, keyed by name:
// made on first use for an instance another node registered, and forgotten
// when the store says the instance left or its check changed.
import { HealthTracker, sameHealthCheck } from "./health-state";
import type { HealthCheckSpec, HealthStatus, InstanceView, RegistryEvent, ReportedStatus } from "./types";

export const instanceKey = (serviceName: string, instanceId: string) => `${serviceName}/${instanceId}`;

export class ProbeTrackers {
  private readonly byKey = new Map<string, HealthTracker>();

  constructor(private readonly historySize: number) {}

  get(key: string): HealthTracker | undefined {
    return this.byKey.get(key);
  }

  /** The tracker of an instance with a check, made from its current status if there is none yet. */
  of(key: string, instance: InstanceView): HealthTracker | undefined {
    let tracker = this.byKey.get(key);
    if (tracker === undefined && instance.healthCheck !== undefined) {
      tracker = new HealthTracker(instance.healthCheck, this.historySize, instance.status);
      this.byKey.set(key, tracker);
    }
    return tracker;
  }

  /** Starts over (counters, history) with `spec`, or stops tracking when there is none. */
  reset(key: string, spec: HealthCheckSpec | undefined, initial?: HealthStatus): void {
    if (spec === undefined) this.byKey.delete(key);
    else this.byKey.set(key, new HealthTracker(spec, this.historySize, initial));
  }

  /** With a check, a self-reported status combines with the probes' (see HealthTracker); without one it is the status. */
  combineReported(key: string, instance: InstanceView, status: ReportedStatus): HealthStatus {
    const tracker = this.of(key, instance);
    if (tracker === undefined) return status;
    tracker.report(status);
    return tracker.status;
  }

  /** After the store's view was replaced without events: forgets what `keep` says is gone. */
  retain(keep: (key: string) => boolean): void {
    for (const key of [...this.byKey.keys()]) if (!keep(key)) this.byKey.delete(key);
  }

  /** Follows the store, wherever a change was written: removed instances and changed checks are forgotten. */
  follow(event: RegistryEvent): void {
    const key = instanceKey(event.instance.serviceName, event.instance.instanceId);
    if (event.type === "unregistered" || event.type === "expired") {
      this.byKey.delete(key);
    } else if (event.type === "updated") {
      const tracker = this.byKey.get(key);
      if (tracker !== undefined && !sameHealthCheck(tracker.spec, event.instance.healthCheck)) this.byKey.delete(key);
    }
  }
}
