// What one subscription is sent: the resources of a type under a list of names
// (or every service, for a wildcard), read from the catalog once per catalog
// generation and shared, as one array, by every stream that subscribes alike.
// So a change costs one read of the catalog per distinct subscription, not per
// stream, and the response body is encoded once for all of them
// (response-codec.ts keeps the bytes by array).
import type { Any } from "@bufbuild/protobuf/wkt";
import type { TypeUrl } from "./resources";

/** Where resources are read: the catalog. */
export interface ResourceSource {
  get(type: TypeUrl, name: string): Any | undefined;
  names(): Iterable<string>;
  /** The registry revision the resources reflect: a response's version_info. */
  revision(): number;
  /** Changes whenever a resource may have changed (a registry change, or a hostname's new address). */
  generation(): number;
  /** A stream subscribed to these names (undone by unfollow): a followed service that loses its last instance is kept, with no endpoints. */
  follow(names: Iterable<string>): void;
  unfollow(names: Iterable<string>): void;
}

/** The resources sent for one subscription, shared by the streams that have it. */
export interface ResourceSet {
  readonly resources: readonly Any[];
  /** The resource sent under each name: a change concerns a stream only if it differs. */
  readonly byName: ReadonlyMap<string, Any>;
}

/** A subscription: a type, the names asked for in the client's order (undefined: every service), and a key naming exactly those. */
export interface Subscription {
  readonly type: TypeUrl;
  readonly names: ReadonlySet<string> | undefined;
  readonly key: string;
}

export function subscriptionOf(type: TypeUrl, names: ReadonlySet<string> | undefined): Subscription {
  return { type, names, key: `${type} ${names === undefined ? "*" : JSON.stringify([...names])}` };
}

export class ResourceSets {
  private generation = Number.NaN;
  /** This generation's sets by type and key: at most one per distinct subscription of the open streams. */
  private readonly sets = new Map<string, ResourceSet>();
  private versionOf = { revision: Number.NaN, text: "" };

  constructor(private readonly source: ResourceSource) {}

  /** The revision as a response's version_info: one string per revision, however many streams send it. */
  version(): string {
    const revision = this.source.revision();
    if (revision !== this.versionOf.revision) this.versionOf = { revision, text: String(revision) };
    return this.versionOf.text;
  }

  get(subscription: Subscription): ResourceSet {
    const generation = this.source.generation();
    if (generation !== this.generation) {
      this.sets.clear();
      this.generation = generation;
    }
    let set = this.sets.get(subscription.key);
    if (set === undefined) this.sets.set(subscription.key, (set = this.read(subscription.type, subscription.names)));
    return set;
  }

  private read(type: TypeUrl, names: ReadonlySet<string> | undefined): ResourceSet {
    const resources: Any[] = [];
    const byName = new Map<string, Any>();
    for (const name of names ?? this.source.names()) {
      const resource = this.source.get(type, name);
      if (resource === undefined) continue; // omitted: the client learns it does not exist
      resources.push(resource);
      byName.set(name, resource);
    }
    return { resources, byName };
  }
}
