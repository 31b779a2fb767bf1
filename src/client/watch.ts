// watch(): the registry's Watch stream as one endless async iterable that
// survives disconnects. It reconnects (to the next registry address at once,
// with backoff once all were tried) and resumes from the last
// revision the caller has fully seen, so nothing is missed or repeated; when it
// cannot resume (the server sends RESET, or the link broke mid-snapshot) the
// caller gets a RESET first and a fresh snapshot after it.
import { create } from "@bufbuild/protobuf";
import { EventType, WatchEventSchema, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { sleep } from "../common/sleep";
import { createBackoff, isPermanent, type BackoffOptions } from "./backoff";
import { createConnection, type ConnectionOptions, type DiscoveryConnection } from "./connection";
import type { ClientLogger } from "./util";

export interface WatchOptions extends ConnectionOptions {
  /** Services to follow; empty or absent: all. */
  services?: string[];
  /** Resume after this revision (0 or absent: start with a snapshot). */
  sinceRevision?: bigint;
  /** Ends the iteration. */
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  logger?: ClientLogger;
  /** Called each time the stream breaks, before the reconnect (for "registry unreachable" states). */
  onDisconnect?: (error: unknown) => void;
  /** Called when a stream opened after a break delivers its first event: where, and the revision it resumed after (0: a snapshot). */
  onReconnect?: (info: { url: string; sinceRevision: bigint }) => void;
  /** Use this connection instead of opening one (it is not closed at the end). */
  connection?: DiscoveryConnection;
}

/** The reason on a RESET that watch() itself sends when it cannot resume. */
export const RECONNECT_RESET_REASON = "reconnected-mid-snapshot";

/**
 * Events in revision order, across reconnects: SNAPSHOT…, SYNCED, then live
 * events; RESET (from the server, or ours) means "drop what you hold".
 * Ends when the signal aborts; throws on an error retrying cannot fix (a bad
 * service name, a refused secret).
 */
export async function* watch(options: WatchOptions): AsyncGenerator<WatchEvent> {
  const connection = options.connection ?? createConnection(options);
  const backoff = createBackoff(options.backoff);
  const signal = options.signal;
  // The revision the caller's state reflects, when it may be resumed from.
  let resumeFrom = options.sinceRevision ?? 0n;
  let resumable = resumeFrom > 0n;
  // Snapshot events delivered since the last RESET/start: a reconnect must take them back.
  let partialSnapshot = false;
  // Breaks since the last event: each moves to the next registry address, and once all were tried, backoff.
  let brokenInARow = 0;
  let broken = false;
  try {
    while (signal?.aborted !== true) {
      try {
        const sinceRevision = resumable ? resumeFrom : 0n;
        const stream = connection.client.watch({ serviceNames: options.services ?? [], sinceRevision }, { signal });
        for await (const event of stream) {
          brokenInARow = 0;
          if (broken) {
            broken = false;
            options.onReconnect?.({ url: connection.url, sinceRevision });
          }
          switch (event.type) {
            case EventType.RESET:
              resumable = false;
              partialSnapshot = false;
              break;
            case EventType.SNAPSHOT:
              partialSnapshot = true;
              break;
            case EventType.SYNCED:
              resumeFrom = event.revision;
              resumable = true;
              partialSnapshot = false;
              backoff.reset();
              break;
            default:
              // A change the caller already has (it cannot happen with a correct server) is dropped.
              if (resumable && event.revision <= resumeFrom) continue;
              if (resumable) resumeFrom = event.revision;
          }
          yield event;
        }
        if (isAborted(signal)) return;
        throw new Error("the registry ended the Watch stream");
      } catch (error) {
        if (isAborted(signal)) return;
        if (isPermanent(error)) throw error;
        options.onDisconnect?.(error);
        broken = true;
        connection.failover();
        brokenInARow++;
        const delay = brokenInARow < connection.addresses ? 0 : backoff.next();
        options.logger?.warn({ err: error, retryInMs: Math.round(delay), resumeFrom: String(resumeFrom) }, "watch broke; reconnecting");
        await sleep(delay, { signal, unref: true });
        if (!resumable && partialSnapshot) {
          // Half a snapshot cannot be resumed: the caller must drop it.
          partialSnapshot = false;
          yield create(WatchEventSchema, { type: EventType.RESET, revision: resumeFrom, reason: RECONNECT_RESET_REASON });
        }
      }
    }
  } finally {
    if (options.connection === undefined) connection.close();
  }
}

/** Read through a call, so the compiler does not narrow it across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
