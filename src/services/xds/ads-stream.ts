// One state-of-the-world ADS stream: per resource type, what the client asked
// for, what it was last sent, the nonce it must answer and the version it last
// accepted. Requests and catalog changes only mark a type as due; a response is
// built when the transport can take one, so a slow client holds at most one
// pending response per type, never a queue. What a stream was sent is a set
// shared with every stream that subscribes alike (resource-sets.ts): its own
// state is its subscription and a few fields per type.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { DiscoveryRequest, DiscoveryResponseSchema } from "../../../gen/envoy/service/discovery/v3/discovery_pb";
import { DiscoveryError } from "../../core/errors";
import { ResourceSets, subscriptionOf, type ResourceSet, type ResourceSource, type Subscription } from "./resource-sets";
import { TYPE, TYPE_URLS, type TypeUrl } from "./resources";
import { DEFAULT_MAX_RESOURCES_PER_STREAM } from "./xds-defaults";

export { DEFAULT_MAX_RESOURCES_PER_STREAM };
export type { ResourceSource };

/** What the stream reports (metrics and logs). */
export interface AdsStreamObserver {
  subscribed?(type: TypeUrl): void;
  /** The stream that subscribed to `type` ended. */
  unsubscribed?(type: TypeUrl): void;
  nack?(type: TypeUrl, detail: string, node: string): void;
  pushed?(type: TypeUrl, delayMs: number): void;
}


interface TypeState {
  /** Its names undefined: the wildcard (every service), allowed for Listener and Cluster. */
  subscription: Subscription;
  /** The names of the request that set the subscription, as sent: an ACK naming the same is read without a Set. */
  asked: readonly string[];
  /** What the last response carried (shared), undefined before the first. */
  sent: ResourceSet | undefined;
  nonce: string;
  /** The version the client last accepted ("" before its first ACK). */
  accepted: string;
  /** When the oldest change not yet sent was seen, or undefined when nothing is due. */
  dueSince: number | undefined;
}

export type DiscoveryResponseInit = MessageInitShape<typeof DiscoveryResponseSchema>;

export class AdsStream {
  private readonly types = new Map<TypeUrl, TypeState>();
  private nonces = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private onDue: (() => void) | undefined;
  /** The client's node id, for logs. */
  node = "";

  /** Streams given one `sets` share what they send (the server gives all its streams one). */
  constructor(
    private readonly source: ResourceSource,
    private readonly maxResources: number,
    private readonly observer: AdsStreamObserver = {},
    private readonly sets: ResourceSets = new ResourceSets(source),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one DiscoveryRequest: a subscription, an ACK or a NACK. */
  receive(request: DiscoveryRequest): void {
    if (this.closed) return; // a request still in flight when the stream ended
    if (request.node !== undefined && request.node.id !== "") this.node = request.node.id;
    const type = request.typeUrl as TypeUrl;
    if (!TYPE_URLS.includes(type)) {
      throw new DiscoveryError("invalid-argument", `type_url: ${JSON.stringify(request.typeUrl.slice(0, 200))} is not served (one of ${TYPE_URLS.join(", ")})`, "type_url");
    }
    if (request.resourceNames.length > this.maxResources) {
      throw new DiscoveryError(
        "resource-exhausted",
        `resource_names: ${request.resourceNames.length} names exceed the ${this.maxResources} one stream may follow per type (XDS_MAX_RESOURCES_PER_STREAM)`,
        "resource_names",
      );
    }
    let state = this.types.get(type);
    const first = state === undefined;
    if (state === undefined) {
      state = { subscription: subscriptionOf(type, new Set()), asked: [], sent: undefined, nonce: "", accepted: "", dueSince: undefined };
      this.types.set(type, state);
      this.observer.subscribed?.(type);
    }
    // A request answering an older response crossed a newer one: the newer one stands.
    if (request.responseNonce !== "" && request.responseNonce !== state.nonce) return;
    if (request.responseNonce !== "") {
      if (request.errorDetail !== undefined) this.observer.nack?.(type, request.errorDetail.message, this.node);
      else state.accepted = request.versionInfo;
    }
    // Listener and Cluster may be asked for all at once: "*", or no names on a stream's first request.
    const wildcard =
      (type === TYPE.listener || type === TYPE.cluster) &&
      (request.resourceNames.includes("*") || (request.resourceNames.length === 0 && (first || state.subscription.names === undefined)));
    const asked = request.resourceNames;
    const current = state.subscription.names;
    const sameAsked = sameList(asked, state.asked);
    const changed = wildcard ? current !== undefined : current === undefined || (!sameAsked && !sameNames(current, new Set(asked)));
    if (changed) {
      const before = state.subscription.names;
      state.subscription = subscriptionOf(type, wildcard ? undefined : new Set(asked));
      // Followed again before let go: a name in both never drops to no followers in between.
      if (state.subscription.names !== undefined) this.source.follow(state.subscription.names);
      if (before !== undefined) this.source.unfollow(before);
    }
    // An ACK names what the stream holds: the array kept is the older, so ACKs leave nothing behind for the collector to promote.
    if (changed || !sameAsked) state.asked = asked;
    // A new stream gets its resources even when it names a version it already has.
    if (request.responseNonce === "" || changed) this.due(state);
  }

  /** The catalog changed `name`: its subscribers are due a response if what they hold differs. */
  changed(name: string, since: number): void {
    for (const [type, state] of this.types) {
      const names = state.subscription.names;
      const follows = names === undefined || names.has(name);
      if (follows && this.source.get(type, name) !== state.sent?.byName.get(name)) this.due(state, since);
    }
  }

  /** The version the client last accepted for `type` ("" before any). */
  accepted(type: TypeUrl): string {
    return this.types.get(type)?.accepted ?? "";
  }

  /** The next response to send, or undefined when nothing is due. */
  next(): DiscoveryResponseInit | undefined {
    for (const [type, state] of this.types) {
      if (state.dueSince === undefined) continue;
      const delay = this.now() - state.dueSince;
      state.dueSince = undefined;
      state.sent = this.sets.get(state.subscription);
      state.nonce = String(++this.nonces);
      this.observer.pushed?.(type, delay);
      // The version is the registry revision: it says which changes a response carries (and is the same on every node of a cluster).
      return { versionInfo: this.sets.version(), typeUrl: type, nonce: state.nonce, resources: state.sent.resources as Any[] };
    }
    return undefined;
  }

  /** The stream ended: its subscriptions go. */
  close(): void {
    this.closed = true;
    for (const [type, state] of this.types) {
      if (state.subscription.names !== undefined) this.source.unfollow(state.subscription.names);
      this.observer.unsubscribed?.(type);
    }
    this.types.clear();
  }

  /** Resolves when a response may be due (or at once if one is), or when interrupt() is called. */
  waitForWork(): Promise<void> {
    for (const state of this.types.values()) if (state.dueSince !== undefined) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Calls `fn` (synchronously) whenever a response becomes due: for transports that take pushes. */
  whenDue(fn: () => void): void {
    this.onDue = fn;
  }

  /** Wakes a waitForWork() without work: the stream is ending. */
  interrupt(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private due(state: TypeState, since = this.now()): void {
    if (state.dueSince === undefined || since < state.dueSince) state.dueSince = since;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    this.onDue?.();
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameNames(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const name of a) if (!b.has(name)) return false;
  return true;
}
