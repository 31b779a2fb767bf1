// One webhook POST: the signed body to a target whose address was checked
// first, dialled at that checked address (a name that resolves elsewhere on the
// next lookup cannot slip past), with a timeout and the answer discarded.
import { createHmac } from "node:crypto";
import { lookup as dnsLookup } from "node:dns/promises";
import * as http from "node:http";
import * as https from "node:https";
import type { LookupFunction } from "node:net";

/** Where a webhook may be sent: resolves the host and refuses (throws) an address the policy forbids. */
export type WebhookTargetCheck = (host: string, signal: AbortSignal) => Promise<{ address: string; family: 4 | 6 }>;

/**
 * The check used when none is given: resolve, allow every address. The server
 * (create-server) passes the probe address policy (DISCOVERY_PROBE_DENY/ALLOW,
 * src/health) instead.
 */
export const resolveAnyAddress: WebhookTargetCheck = async (host) => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const { address, family } = await dnsLookup(bare);
  return { address, family: family === 6 ? 6 : 4 };
};

/** The signature header's value: `sha256=<hex HMAC-SHA256 of the exact body>`. */
export function signBody(secret: string, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

export interface DeliveryAttempt {
  url: URL;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  checkTarget: WebhookTargetCheck;
  signal: AbortSignal;
}

/** How an attempt ended: delivered, or failed and whether another attempt may help. */
export type AttemptResult = { ok: true; status: number } | { ok: false; retry: boolean; reason: string };

export async function attemptDelivery(attempt: DeliveryAttempt): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(attempt.timeoutMs);
  const signal = AbortSignal.any([attempt.signal, timeout]);
  let target: { address: string; family: 4 | 6 };
  try {
    target = await attempt.checkTarget(attempt.url.hostname, signal);
  } catch (error) {
    return { ok: false, retry: false, reason: `target refused: ${(error as Error).message}` };
  }
  const lookup: LookupFunction = (_host, options, callback) => {
    if (options.all === true) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const client = attempt.url.protocol === "https:" ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    const request = client.request(attempt.url, {
      method: "POST",
      lookup,
      signal,
      headers: { ...attempt.headers, "content-type": "application/json", "content-length": Buffer.byteLength(attempt.body) },
    });
    request.once("response", (response) => {
      const status = response.statusCode ?? 0;
      response.resume(); // the answer's body is not ours to keep
      response.once("end", () => resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, retry: retryable(status), reason: `HTTP ${status}` }));
      response.once("error", () => resolve({ ok: false, retry: true, reason: "answer broke off" }));
    });
    request.once("error", (error) => {
      const reason = timeout.aborted ? `timeout after ${attempt.timeoutMs} ms` : attempt.signal.aborted ? "shutting down" : error.message;
      resolve({ ok: false, retry: !attempt.signal.aborted, reason });
    });
    request.end(attempt.body);
  });
}

/** 5xx, 408 and 429 may pass later; any other refusal will not. */
function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
