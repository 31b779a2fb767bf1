// One error type for everything etcd answered badly or not at all; the store turns
// it into the domain's "unavailable" naming etcd, so no raw cause reaches a client.
import { status, type ServiceError } from "@grpc/grpc-js";

export class EtcdError extends Error {
  override readonly name = "EtcdError";

  constructor(
    message: string,
    /** The gRPC status etcd (or the channel) gave. */
    readonly code: status,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Transient: the call may succeed later or on another member. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** Longest part of an etcd failure's detail that goes into our messages. */
const MAX_DETAIL_LENGTH = 120;

const RETRYABLE = new Set<status>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.UNKNOWN, status.INTERNAL]);

export function etcdErrorOf(error: unknown, what: string): EtcdError {
  if (error instanceof EtcdError) return error;
  const service = error as Partial<ServiceError>;
  const code = typeof service.code === "number" ? service.code : status.UNKNOWN;
  // grpc-js details can run long (resolution notes, addresses): one short line reaches clients.
  const detail = String(service.details ?? service.message ?? error).split(/[\n.]/)[0]!.slice(0, MAX_DETAIL_LENGTH);
  return new EtcdError(`etcd ${what}: ${status[code] ?? code}: ${detail}`, code, { cause: error });
}

/**
 * etcd refused a write because the lease it names is gone (expired or revoked:
 * etcd's ErrGRPCLeaseNotFound, NOT_FOUND "requested lease not found").
 */
export function isLeaseNotFound(error: unknown): boolean {
  return error instanceof EtcdError && error.code === status.NOT_FOUND && error.message.includes("lease not found");
}
