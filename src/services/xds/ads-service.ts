// envoy.service.discovery.v3.AggregatedDiscoveryService on our transport:
// StreamAggregatedResources (state of the world) serves every stream from the
// one catalog. The incremental variant has no handler, so it answers UNIMPLEMENTED.
import type { Logger } from "pino";
import { AggregatedDiscoveryService } from "../../../gen/envoy/service/discovery/v3/ads_pb";
import type { DiscoveryRequest } from "../../../gen/envoy/service/discovery/v3/discovery_pb";
import { DiscoveryError } from "../../core/errors";
import type { CallContext, Handlers } from "../../transport/contract";
import { AdsStream, DEFAULT_MAX_RESOURCES_PER_STREAM, type AdsStreamObserver, type DiscoveryResponseInit } from "./ads-stream";
import type { XdsCatalog } from "./catalog";

import { DEFAULT_MAX_XDS_STREAMS } from "./xds-defaults";

export { DEFAULT_MAX_XDS_STREAMS };

export interface XdsObserver extends AdsStreamObserver {
  streamOpened?(): void;
  streamClosed?(): void;
}

export interface AdsHandlersOptions {
  catalog: XdsCatalog;
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
  let open = 0;

  return {
    async *streamAggregatedResources(requests: AsyncIterable<DiscoveryRequest>, context: CallContext): AsyncIterable<DiscoveryResponseInit> {
      if (open >= maxStreams) throw new DiscoveryError("resource-exhausted", `too many xDS streams: ${maxStreams} are open (XDS_MAX_STREAMS)`);
      open++;
      observer.streamOpened?.();
      const stream = new AdsStream(catalog, maxResources, streamObserver);
      const stopListening = catalog.onChange((name, since) => stream.changed(name, since));
      // The stream ends when the call does, or when the client stops sending (or sends something bad).
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
        stopListening();
        stream.close();
        open--;
        observer.streamClosed?.();
      }
    },
  };
}
