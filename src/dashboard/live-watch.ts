// Keeps one Watch stream open from the browser (Connect protocol over fetch),
// resuming from the last revision after a disconnect, with a capped backoff.
// Reports each event and each change of connection state; no polling.
import type { Client } from "@connectrpc/connect";
import type { DiscoveryService, WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import type { FleetState } from "./fleet-state";
import { sleep } from "../common/sleep";

export type Connection = { t: "connecting" } | { t: "live" } | { t: "disconnected"; retryAt: number; error: string };

/** First wait before reconnecting, doubled per failed attempt up to the cap. */
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 5_000;

export interface LiveWatchOptions {
  client: Client<typeof DiscoveryService>;
  state: FleetState;
  onChange: () => void;
  onConnection: (connection: Connection) => void;
  signal: AbortSignal;
}

export async function runLiveWatch(options: LiveWatchOptions): Promise<void> {
  const { client, state, signal } = options;
  let delay = RECONNECT_MIN_MS;
  while (!signal.aborted) {
    options.onConnection({ t: "connecting" });
    let error = "the stream ended";
    try {
      const since = state.resumeRevision;
      if (since === 0n && state.instances.size > 0) {
        state.clear();
        options.onChange();
      }
      for await (const event of client.watch({ serviceNames: [], sinceRevision: since }, { signal })) {
        onEvent(options, event);
        if (state.synced) delay = RECONNECT_MIN_MS;
      }
    } catch (reason) {
      error = reason instanceof Error ? reason.message : String(reason);
    }
    if (signal.aborted) return;
    options.onConnection({ t: "disconnected", retryAt: Date.now() + delay, error });
    await sleep(delay, { signal });
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  }
}

function onEvent(options: LiveWatchOptions, event: WatchEvent): void {
  const wasSynced = options.state.synced;
  if (options.state.apply(event)) options.onChange();
  if (!wasSynced && options.state.synced) {
    options.onConnection({ t: "live" });
    options.onChange();
  }
}
