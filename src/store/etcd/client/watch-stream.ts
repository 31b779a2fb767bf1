// A resumable etcd watch over one key range. It resumes from the revision after
// the last *event* it delivered, never from a response header (etcd stamps every
// catch-up batch with the current revision, so resuming from the header after a
// drop mid catch-up would skip the batches in between: the etcd3 package's bug).
// It reads only as fast as its consumer pulls (grpc-js stream + HTTP/2 flow
// control), retries with jittered backoff, and reports compaction instead of failing.
// It asks etcd to fragment large responses: a catch-up batch (up to 1000 revisions)
// of large records is otherwise one message past ETCD_MAX_RECEIVE_BYTES, refused
// by grpc-js on every retry, and the node never catches up.
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Watch, type WatchRequest, type WatchResponse } from "../../../../gen-etcd/etcd/etcdserverpb/rpc_pb";
import type { Event } from "../../../../gen-etcd/etcd/mvccpb/kv_pb";
import { createBackoff, sleep } from "../../../client/backoff";
import { etcdMetadata, deserializerOf, pathOf, serializerOf, type EtcdClient } from "./etcd-client";
import { etcdErrorOf, type EtcdError } from "./etcd-error";

/** What a watch yields, in revision order. */
export type WatchItem =
  /** Every event of one or more whole revisions; `revision` is the last one's. */
  | { readonly t: "events"; readonly revision: number; readonly events: readonly Event[] }
  /**
   * A progress report. `vouched`: a periodic notification, which etcd sends only
   * to a caught-up watcher, so nothing at or below `revision` is still to come.
   * An answer to requestProgress() is not vouched on etcd 3.4: it reports the
   * store's revision at once, even to a watcher still catching up.
   */
  | { readonly t: "progress"; readonly revision: number; readonly vouched: boolean }
  /** The stream (re)connected; `revision` is etcd's current revision. */
  | { readonly t: "connected"; readonly revision: number }
  /** The stream broke; it will resume from the revision after the last event. */
  | { readonly t: "disconnected"; readonly error: EtcdError }
  /** `startRevision` was compacted away: the watch ends; start again from a snapshot. */
  | { readonly t: "compacted"; readonly compactRevision: number };

export interface WatchRangeOptions {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  /** The first revision wanted (inclusive). */
  startRevision: number;
  signal: AbortSignal;
  prevKv?: boolean;
  /** Ask etcd for periodic progress notifications (it sends them every ~10 min by default). */
  progressNotify?: boolean;
}

export interface EtcdWatch extends AsyncIterable<WatchItem> {
  /** Asks etcd for a progress notification now (ignored while disconnected). */
  requestProgress(): void;
  /** The next revision the watch will ask for after a reconnect. */
  readonly nextRevision: number;
}

const WATCH_PATH = pathOf(Watch.method.watch);
const serialize = serializerOf(Watch.method.watch.input);
const deserialize = deserializerOf(Watch.method.watch.output);

export function watchRange(client: EtcdClient, options: WatchRangeOptions): EtcdWatch {
  let next = options.startRevision;
  let stream: ClientDuplexStream<WatchRequest, WatchResponse> | undefined;
  const { signal } = options;

  async function* run(): AsyncGenerator<WatchItem> {
    const backoff = createBackoff({ initialMs: 100, maxMs: 2_000 });
    while (!signal.aborted) {
      const call = client.grpc.makeBidiStreamRequest(WATCH_PATH, serialize, deserialize, etcdMetadata());
      const cancel = () => call.cancel();
      signal.addEventListener("abort", cancel, { once: true });
      stream = call;
      call.write(
        create(Watch.method.watch.input, {
          requestUnion: {
            case: "createRequest",
            value: { key: options.key, rangeEnd: options.rangeEnd, startRevision: BigInt(next), prevKv: options.prevKv ?? false, progressNotify: options.progressNotify ?? false, fragment: true },
          },
        }),
      );
      let failure: unknown = new Error("watch stream ended");
      const fragments = new FragmentJoiner();
      try {
        for await (const response of call as AsyncIterable<WatchResponse>) {
          if (response.canceled) {
            if (response.compactRevision > 0n) {
              yield { t: "compacted", compactRevision: Number(response.compactRevision) };
              return;
            }
            throw new Error(`watch canceled: ${response.cancelReason || "no reason given"}`);
          }
          const headerRevision = Number(response.header?.revision ?? 0n);
          if (response.created) {
            backoff.reset();
            yield { t: "connected", revision: headerRevision };
          } else if (response.events.length > 0 || fragments.pending) {
            const events = fragments.take(response.events, response.fragment);
            if (events.length > 0) {
              const revision = revisionOf(events[events.length - 1]!);
              next = revision + 1;
              yield { t: "events", revision, events };
            }
          } else if (headerRevision > 0) {
            // etcd 3.4 answers a progress request on the control stream (watch_id -1) without
            // checking that the watcher caught up: only a periodic notification moves the resume point.
            const vouched = response.watchId !== -1n;
            if (vouched && headerRevision >= next) next = headerRevision + 1;
            yield { t: "progress", revision: headerRevision, vouched };
          }
        }
      } catch (error) {
        failure = error;
      } finally {
        signal.removeEventListener("abort", cancel);
        stream = undefined;
        call.cancel();
      }
      if (signal.aborted) return;
      yield { t: "disconnected", error: etcdErrorOf(failure, "Watch") };
      await sleep(backoff.next(), signal);
    }
  }

  return {
    [Symbol.asyncIterator]: run,
    requestProgress() {
      stream?.write(create(Watch.method.watch.input, { requestUnion: { case: "progressRequest", value: {} } }));
    },
    get nextRevision() {
      return next;
    },
  };
}

function revisionOf(event: Event): number {
  return Number(event.kv?.modRevision ?? 0n);
}

/**
 * Joins the fragments of a large watch response (etcd marks all but the last
 * `fragment`) into whole revisions: a revision may go on in the next fragment,
 * so its events wait for it; everything before it is handed on at once.
 */
export class FragmentJoiner {
  private held: Event[] = [];

  get pending(): boolean {
    return this.held.length > 0;
  }

  /** The events of whole revisions this response completes (maybe none). */
  take(events: readonly Event[], fragment: boolean): Event[] {
    const all = this.held.length === 0 ? [...events] : [...this.held, ...events];
    if (!fragment || all.length === 0) {
      this.held = [];
      return all;
    }
    const last = revisionOf(all[all.length - 1]!);
    let end = all.length;
    while (end > 0 && revisionOf(all[end - 1]!) === last) end--;
    this.held = all.slice(end);
    return all.slice(0, end);
  }
}
