// An in-memory xDS resource source for the unit tests of ADS streams: resources
// by name (tagged bytes, so a test can read what was sent), a revision and a
// generation that count the changes, and the catalog's change listeners.
import type { Any } from "@bufbuild/protobuf/wkt";
import type { CatalogListener } from "../../src/services/xds/catalog";
import type { ResourceSource } from "../../src/services/xds/resource-sets";
import { TYPE, type TypeUrl } from "../../src/services/xds/resources";

export class TestResourceSource implements ResourceSource {
  readonly byName = new Map<string, Any>();
  private readonly listeners = new Set<CatalogListener>();
  private changes = 0;

  /** Sets `name`'s resource to one carrying `tag`, and tells the listeners. */
  set(name: string, tag: string): Any {
    const any = { typeUrl: TYPE.endpoint, value: new TextEncoder().encode(tag) } as Any;
    this.byName.set(name, any);
    this.changes++;
    for (const listener of this.listeners) listener(name, performance.now());
    return any;
  }
  get(_type: TypeUrl, name: string) {
    return this.byName.get(name);
  }
  names() {
    return this.byName.keys();
  }
  revision() {
    return this.changes;
  }
  generation() {
    return this.changes;
  }
  /** How many subscriptions name each service. */
  readonly followers = new Map<string, number>();
  /** Names whose followers dropped to none, in order. */
  readonly letGo: string[] = [];
  follow(names: Iterable<string>) {
    for (const name of names) this.followers.set(name, (this.followers.get(name) ?? 0) + 1);
  }
  unfollow(names: Iterable<string>) {
    for (const name of names) {
      const count = (this.followers.get(name) ?? 0) - 1;
      if (count > 0) this.followers.set(name, count);
      else {
        this.followers.delete(name);
        this.letGo.push(name);
      }
    }
  }
  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The tags of the resources a response carries. */
export function tagsOf(response: { resources?: unknown[] } | undefined): string[] | undefined {
  return (response?.resources as Any[] | undefined)?.map((r) => new TextDecoder().decode(r.value));
}
