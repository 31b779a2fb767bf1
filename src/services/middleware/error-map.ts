// The one table from domain errors to wire codes. Anything that is not a known
// error becomes INTERNAL with a generic message: causes stay in the logs.
import { Code, ConnectError } from "@connectrpc/connect";
import { DiscoveryError, type DiscoveryErrorReason } from "../../core/errors";

const CODE_OF: Record<DiscoveryErrorReason, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "not-found": Code.NotFound,
  "failed-precondition": Code.FailedPrecondition,
  "resource-exhausted": Code.ResourceExhausted,
  unauthenticated: Code.Unauthenticated,
  "permission-denied": Code.PermissionDenied,
  unavailable: Code.Unavailable,
};

/** The wire form of any error a handler raised. */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DiscoveryError) return new ConnectError(error.message, CODE_OF[error.reason], undefined, undefined, error);
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/** True when the error is an expected refusal rather than a fault worth logging. */
export function isExpected(error: unknown): boolean {
  return error instanceof DiscoveryError || (error instanceof ConnectError && error.code !== Code.Internal && error.code !== Code.Unknown);
}
