// Domain errors: what went wrong in the registry's own terms. The transport maps
// each reason to a wire code in one table (src/services/middleware/error-map.ts).

/** Why a registry operation was refused. */
export type DiscoveryErrorReason =
  | "invalid-argument"
  | "not-found"
  | "failed-precondition"
  | "resource-exhausted"
  | "unauthenticated"
  | "permission-denied"
  | "unavailable";

/** An expected refusal: bad input, an unknown instance, a limit reached. */
export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";

  constructor(
    readonly reason: DiscoveryErrorReason,
    message: string,
    /** The request field at fault, for invalid-argument. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** An input rule was broken; the message names the field and the rule. */
export function invalidArgument(field: string, rule: string): DiscoveryError {
  return new DiscoveryError("invalid-argument", `${field}: ${rule}`, field);
}
