// Readable reasons for failed probes: what an operator should read in the
// history ("connection refused", "timeout after 5s"), not a stack trace.
import { formatMs } from "../core/health-state";

/** The reason a probe was aborted for running past its timeout. */
export class ProbeTimeout extends Error {
  override readonly name = "ProbeTimeout";
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${formatMs(timeoutMs)}`);
  }
}

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connect timed out",
};

/** One line saying why a probe failed. */
export function describeFailure(error: unknown, signal?: AbortSignal): string {
  if (signal?.aborted === true && signal.reason instanceof ProbeTimeout) return signal.reason.message;
  if (error instanceof ProbeTimeout) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && BY_CODE[code] !== undefined) return BY_CODE[code]!;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
