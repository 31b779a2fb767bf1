// gRPC's canonical status code names ("NOT_FOUND"), as metrics label them and
// the CLI prints them. Connect's Code enum uses the same numbers.

const NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

export function codeName(code: number): string {
  return NAMES[code] ?? "UNKNOWN";
}
