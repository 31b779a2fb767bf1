// KeepAlive: heartbeats as messages on one long-lived stream. The stream also
// tells the registry something a heartbeat cannot: when it breaks without an
// Unregister, the peer is gone, and its instances turn unhealthy at once.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HeartbeatRequest, HeartbeatResponseSchema } from "../../../gen/discovery/v1/discovery_pb";
import type { Logger } from "pino";
import type { KeepAliveOwner, Registry } from "../../core/registry";
import { runAsActor } from "../../runtime/actor";
import type { CallContext } from "../../transport/contract";
import { instanceToProto, statusFromProto } from "./proto-mapping";

export interface KeepAliveOptions {
  registry: Registry;
  /**
   * Checks that the stream's credential may write each message's service
   * (throws PERMISSION_DENIED) and names it; absent when auth is off.
   */
  authorizeWrite?: (context: CallContext, serviceName: string) => { readonly name: string };
  logger?: Logger;
  /** Called per heartbeat message (metrics), as for unary Heartbeat. */
  onHeartbeat?: () => void;
}

type KeepAliveHandler = (
  requests: AsyncIterable<HeartbeatRequest>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<typeof HeartbeatResponseSchema>>;

export function createKeepAliveHandler(options: KeepAliveOptions): KeepAliveHandler {
  const { registry, authorizeWrite, logger } = options;
  const onHeartbeat = options.onHeartbeat ?? (() => {});
  return async function* keepAlive(requests, context) {
    // This stream, to the registry: its break marks only the instances it still keeps.
    const owner: KeepAliveOwner = {};
    // The instances this stream kept alive: the ones to mark if it breaks.
    const kept = new Map<string, { serviceName: string; instanceId: string }>();
    // Set when the stream ends in a way that is not the peer vanishing: the
    // client half-closed (a goodbye), or we refused a heartbeat (NOT_FOUND...).
    let orderly = false;
    const incoming = untilAborted(requests, [context.signal, context.shutdownSignal]);
    try {
      for (;;) {
        // Throws when the call is cancelled or its transport fails.
        const next = await incoming.next();
        if (next.done === true) {
          orderly = true;
          return;
        }
        const request = next.value;
        let instance;
        try {
          const input = {
            serviceName: request.serviceName,
            instanceId: request.instanceId,
            load: request.loadPercentage,
            status: request.status === undefined ? undefined : statusFromProto(request.status),
          };
          // A heartbeat that changes nothing a watcher sees answers synchronously: no await, no extra tick.
          const beat = authorizeWrite === undefined ? registry.heartbeat(input, owner) : runAsActor(authorizeWrite(context, request.serviceName).name, () => registry.heartbeat(input, owner));
          instance = beat instanceof Promise ? await beat : beat;
        } catch (error) {
          orderly = true;
          throw error;
        }
        onHeartbeat();
        kept.set(`${instance.serviceName}/${instance.instanceId}`, { serviceName: instance.serviceName, instanceId: instance.instanceId });
        yield { instance: instanceToProto(instance) };
      }
    } catch (error) {
      if (orderly) throw error;
      // The server is going, not the peer: its instances are not lost; it
      // hears UNAVAILABLE (the shutdown's reason) and reconnects elsewhere.
      if (context.shutdownSignal.aborted && !context.signal.aborted) {
        orderly = true;
        throw context.shutdownSignal.reason;
      }
      // The peer is gone: there is nobody to send an error to.
    } finally {
      incoming.dispose();
      // Also reached through return() when the transport cancels us at a yield.
      if (!orderly) for (const { serviceName, instanceId } of kept.values()) markLost(serviceName, instanceId, owner);
    }
  };

  function markLost(serviceName: string, instanceId: string, owner: KeepAliveOwner): void {
    registry.markKeepAliveLost(serviceName, instanceId, owner).then(
      (marked) => {
        if (marked !== undefined) logger?.info({ serviceName, instanceId }, "keep-alive stream broke: instance marked unhealthy");
      },
      // Nobody is left to answer: the mark is lost with the stream (the lease still runs out).
      (error: unknown) => logger?.warn({ err: error, serviceName, instanceId }, "keep-alive stream broke: instance could not be marked"),
    );
  }
}

/**
 * Iterates `source`, throwing as soon as one of `signals` aborts rather than
 * waiting for its next message. `dispose` removes its listeners: the shutdown
 * signal outlives every stream.
 */
function untilAborted<T>(source: AsyncIterable<T>, signals: readonly AbortSignal[]): { next(): Promise<IteratorResult<T>>; dispose(): void } {
  const inner = source[Symbol.asyncIterator]();
  let abort = () => {};
  const aborted = new Promise<never>((_, reject) => (abort = () => reject(new Error("keep-alive stream aborted"))));
  aborted.catch(() => {});
  for (const signal of signals) {
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  }
  return {
    next: () => Promise.race([inner.next(), aborted]),
    dispose: () => {
      for (const signal of signals) signal.removeEventListener("abort", abort);
    },
  };
}
