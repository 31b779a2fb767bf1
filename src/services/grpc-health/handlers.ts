// grpc.health.v1.Health, as the protocol specifies: Check answers NOT_FOUND for
// unknown names; Watch sends the current status at once, then each change, and
// for an unknown name sends SERVICE_UNKNOWN and stays open.
import { Health, HealthCheckResponse_ServingStatus as Status, type HealthCheckResponse } from "../../../gen/grpc/health/v1/health_pb";
import { create } from "@bufbuild/protobuf";
import { HealthCheckResponseSchema } from "../../../gen/grpc/health/v1/health_pb";
import { DiscoveryError } from "../../core/errors";
import type { CallContext, Handlers } from "../../transport/contract";
import type { HealthBoard, ServingStatus } from "./board";

/** The protocol's List may answer at most this many names. */
const MAX_LISTED = 100;

function toProto(status: ServingStatus | undefined): Status {
  if (status === undefined) return Status.SERVICE_UNKNOWN;
  return status === "serving" ? Status.SERVING : Status.NOT_SERVING;
}

export function createHealthHandlers(board: HealthBoard): Handlers<typeof Health> {
  return {
    check(request) {
      const status = board.status(request.service);
      if (status === undefined) throw new DiscoveryError("not-found", `unknown service: ${request.service}`);
      return { status: toProto(status) };
    },

    list() {
      const all = board.all();
      if (all.size > MAX_LISTED) {
        throw new DiscoveryError("resource-exhausted", `more than ${MAX_LISTED} services; use Check or Watch per service`);
      }
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const [name, status] of all) statuses[name] = create(HealthCheckResponseSchema, { status: toProto(status) });
      return { statuses };
    },

    watch(request, context) {
      return watchStatus(board, request.service, context);
    },
  };
}

async function* watchStatus(board: HealthBoard, name: string, context: CallContext): AsyncGenerator<HealthCheckResponse> {
  // Only the latest status matters to a watcher: keep one pending value, not a queue.
  let pending: Status | undefined = toProto(board.status(name));
  let wake: (() => void) | undefined;
  const unwatch = board.watch(name, (status) => {
    pending = toProto(status);
    wake?.();
  });
  const stop = () => wake?.();
  context.signal.addEventListener("abort", stop, { once: true });
  let sent: Status | undefined;
  try {
    while (!context.signal.aborted) {
      if (pending !== undefined && pending !== sent) {
        sent = pending;
        yield create(HealthCheckResponseSchema, { status: sent });
        continue;
      }
      // Shutting down: the final status is out; end so the client retries elsewhere.
      if (board.isShuttingDown) throw new DiscoveryError("unavailable", "the registry is shutting down");
      pending = undefined;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unwatch();
    context.signal.removeEventListener("abort", stop);
  }
}
