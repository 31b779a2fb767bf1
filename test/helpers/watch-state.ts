// What a gateway holds: the instances a Watch stream has described so far.
import { EventType, type Instance, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";

export class WatchState {
  readonly instances = new Map<string, Instance>();
  synced = false;
  lastRevision = 0n;
  resets = 0;

  apply(event: WatchEvent): void {
    this.lastRevision = event.revision;
    const key = event.instance ? `${event.instance.serviceName}/${event.instance.instanceId}` : "";
    switch (event.type) {
      case EventType.RESET:
        this.instances.clear();
        this.synced = false;
        this.resets++;
        break;
      case EventType.SYNCED:
        this.synced = true;
        break;
      case EventType.UNREGISTERED:
      case EventType.EXPIRED:
        this.instances.delete(key);
        break;
      default:
        this.instances.set(key, event.instance!);
    }
  }

  /** "service/id@port:status" per instance, sorted: compact to compare with the registry. */
  summary(): string[] {
    return [...this.instances.values()].map((i) => `${i.serviceName}/${i.instanceId}@${i.port}:${i.status}:${i.criticalLoad}`).sort();
  }
}

export function summarize(instances: readonly Instance[]): string[] {
  return instances.map((i) => `${i.serviceName}/${i.instanceId}@${i.port}:${i.status}:${i.criticalLoad}`).sort();
}
