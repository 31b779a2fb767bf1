// What the dashboard knows of the fleet: the instances a Watch stream has
// described, applied event by event. No DOM here, so the rules stay readable.
import { EventType, type Instance, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";

export class FleetState {
  /** Instances by "service/id". */
  readonly instances = new Map<string, Instance>();
  /** True once the stream has sent SYNCED: the view is the registry's state. */
  synced = false;
  /** The revision to resume from after a disconnect (0: none yet, start from a snapshot). */
  resumeRevision = 0n;

  /** Applies one event; returns true when the instances changed. */
  apply(event: WatchEvent): boolean {
    switch (event.type) {
      case EventType.RESET:
        this.instances.clear();
        this.synced = false;
        return true;
      case EventType.SYNCED:
        this.synced = true;
        this.resumeRevision = event.revision;
        return false;
      case EventType.UNREGISTERED:
      case EventType.EXPIRED:
        if (this.synced) this.resumeRevision = event.revision;
        return event.instance !== undefined && this.instances.delete(keyOf(event.instance));
      default:
        if (event.instance === undefined) return false;
        // A snapshot's revision is the whole snapshot's: resume only from SYNCED or live events.
        if (this.synced) this.resumeRevision = event.revision;
        this.instances.set(keyOf(event.instance), event.instance);
        return true;
    }
  }

  /** Before a fresh snapshot: forget everything. */
  clear(): void {
    this.instances.clear();
    this.synced = false;
    this.resumeRevision = 0n;
  }
}

export function keyOf(instance: Pick<Instance, "serviceName" | "instanceId">): string {
  return `${instance.serviceName}/${instance.instanceId}`;
}
