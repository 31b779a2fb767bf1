// envoy.service.discovery.v3.AggregatedDiscoveryService on our transport:
// StreamAggregatedResources (state of the world) serves every stream from the
// one catalog. The gRPC transports take its responses as pushes, written
// synchronously when a change makes them due (no promise per response, as for
// Watch), and our transport hands it the ACKs the same way; others iterate. The incremental variant has no handler, so it
// answers UNIMPLEMENTED.
import type { Logger } from "pino";
import { AggregatedDiscoveryService } from "../../../gen/envoy/service/discovery/v3/ads_pb";
import type { DiscoveryRequest } from "../../../gen/envoy/service/discovery/v3/discovery_pb";
import { DiscoveryError } from "../../core/errors";
import type { CallContext, Handlers } from "../../transport/contract";
import { EACH, isRequestFeed, PUSH, type PushControl, type PushSink, type PushSource } from "../../transport/push-source";
import { AdsStream, DEFAULT_MAX_RESOURCES_PER_STREAM, type AdsStreamObserver, type DiscoveryResponseInit } from "./ads-stream";
import type { CatalogListener } from "./catalog";
import { ResourceSets, type ResourceSource } from "./resource-sets";

import { DEFAULT_MAX_XDS_STREAMS } from "./xds-defaults";

export { DEFAULT_MAX_XDS_STREAMS };

export interface XdsObserver extends AdsStreamObserver {
  streamOpened?(): void;
  streamClosed?(): void;
}

/** The catalog as the streams use it: resources, and the news that a service's changed. */
export interface AdsCatalog extends ResourceSource {
  onChange(listener: CatalogListener): () => void;
}

export interface AdsHandlersOptions {
  catalog: AdsCatalog;
  logger: Logger;
  maxStreams?: number;
  maxResourcesPerStream?: number;
  observer?: XdsObserver;
}

export function createAdsHandlers(options: AdsHandlersOptions): Handlers<typeof AggregatedDiscoveryService> {
  const { catalog, logger, observer = {} } = options;
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_XDS_STREAMS;
  const maxResources = options.maxResourcesPerStream ?? DEFAULT_MAX_RESOURCES_PER_STREAM;
  const streamObserver: AdsStreamObserver = {
    ...observer,
    nack: (type, detail, node) => {
      logger.warn({ type, node, detail: detail.slice(0, 1_000) }, "xDS: client rejected a resource (NACK); it keeps the version it accepted last");
      observer.nack?.(type, detail, node);
    },
  };
  // One for every stream: streams that subscribe alike share what they are sent.
  const sets = new ResourceSets(catalog);
  let open = 0;

  /** A stream's lifetime: counted from here until `close`, which runs once however it ends. */
  const openStream = () => {
    open++;
    observer.streamOpened?.();
    const stream = new AdsStream(catalog, maxResources, streamObserver, sets);
    const stopListening = catalog.onChange((name, since) => stream.changed(name, since));
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      stopListening();
      stream.close();
      open--;
      observer.streamClosed?.();
    };
    return { stream, close };
  };

  return {
    streamAggregatedResources(requests: AsyncIterable<DiscoveryRequest>, context: CallContext): PushSource<DiscoveryResponseInit> {
      // Checked here, when the call starts: the transports open the stream right after.
      if (open >= maxStreams) throw new DiscoveryError("resource-exhausted", `too many xDS streams: ${maxStreams} are open (XDS_MAX_STREAMS)`);
      return {
        [PUSH]: (sink) => pushStream(openStream(), requests, sink, context.shutdownSignal),
        [Symbol.asyncIterator]: () => iterateStream(openStream(), requests, context)[Symbol.asyncIterator](),
      };
    },
  };
}

type OpenStream = { stream: AdsStream; close: () => void };

/**
 * Push mode: a due response is written at once while the sink has room; when
 * it is full, the stream keeps marking types due and the latest state goes out
 * on resume. The stream ends when the client stops sending (or sends something
 * bad), and at shutdown, when the client hears UNAVAILABLE at once and reconnects elsewhere.
 */
function pushStream(
  { stream, close }: OpenStream,
  requests: AsyncIterable<DiscoveryRequest>,
  sink: PushSink<DiscoveryResponseInit>,
  shutdownSignal: AbortSignal,
): PushControl {
  let room = true;
  let ended = false;
  let pumping = false;
  const pump = () => {
    if (pumping) return;
    pumping = true;
    try {
      while (room && !ended) {
        const response = stream.next();
        if (response === undefined) break;
        room = sink.write(response);
      }
    } finally {
      pumping = false;
    }
  };
  const shutdown = () => end(shutdownSignal.reason);
  const release = () => {
    shutdownSignal.removeEventListener("abort", shutdown);
    close();
  };
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    release();
    sink.end(error);
  };
  stream.whenDue(pump);
  if (shutdownSignal.aborted) queueMicrotask(shutdown);
  else shutdownSignal.addEventListener("abort", shutdown, { once: true });
  const receive = (request: DiscoveryRequest) => {
    if (ended) return;
    try {
      stream.receive(request);
    } catch (error) {
      end(error);
    }
  };
  // Every response brings an ACK back: taken as it arrives where the transport can, else iterated.
  if (isRequestFeed<DiscoveryRequest>(requests)) requests[EACH]({ message: receive, end: () => end(), error: end });
  else
    void (async () => {
      try {
        for await (const request of requests) {
          if (ended) return;
          stream.receive(request);
        }
        end();
      } catch (error) {
        end(error);
      }
    })();
  return {
    resume: () => {
      room = true;
      pump();
    },
    cancel: () => {
      ended = true;
      release();
    },
  };
}

/** Iterator mode: the same stream, a response per turn of the loop. */
async function* iterateStream({ stream, close }: OpenStream, requests: AsyncIterable<DiscoveryRequest>, context: CallContext): AsyncIterable<DiscoveryResponseInit> {
  let ended = false;
  let failure: unknown;
  const end = () => {
    ended = true;
    stream.interrupt();
  };
  // At shutdown the client hears UNAVAILABLE at once and reconnects elsewhere.
  const shutdown = () => {
    failure = context.shutdownSignal.reason;
    end();
  };
  context.signal.addEventListener("abort", end, { once: true });
  if (context.shutdownSignal.aborted) shutdown();
  else context.shutdownSignal.addEventListener("abort", shutdown, { once: true });
  void (async () => {
    try {
      for await (const request of requests) stream.receive(request);
    } catch (error) {
      failure ??= error;
    } finally {
      end();
    }
  })();
  try {
    for (;;) {
      await stream.waitForWork();
      if (failure !== undefined) throw failure;
      if (ended || context.signal.aborted) return;
      const response = stream.next();
      if (response !== undefined) yield response;
    }
  } finally {
    context.signal.removeEventListener("abort", end);
    context.shutdownSignal.removeEventListener("abort", shutdown);
    close();
  }
}
