// HTTP probes: a GET of the check's path over keep-alive connections (one small
// pool per host:port), judged by status code and, for a JSON body, by its
// {"status": ..., "load_percentage": ...}.
import * as http from "node:http";
import type { ReportedStatus } from "../core/health-state";
import type { ProbeSpec } from "../core/types";
import type { ProbeAnswer } from "./probe-answer";

/** Connections kept per instance address; probes of one instance never overlap, so 2 is plenty. */
export const HTTP_PROBE_SOCKETS_PER_TARGET = 2;
/** A health answer larger than this fails (health endpoints answer in a few bytes). */
export const HTTP_PROBE_MAX_BODY_BYTES = 64 * 1024;
/** Idle keep-alive connections are closed after this, before common server keep-alive timeouts (5 s in Node). */
export const HTTP_PROBE_IDLE_SOCKET_MS = 4_000;

type HttpSpec = Extract<ProbeSpec, { t: "http" }>;

export interface HttpProberOptions {
  /** Upper bound on open probe connections overall (the probe concurrency is a good value). */
  maxTotalSockets: number;
}

export interface HttpProber {
  /** GETs from `address` (resolved and checked by the caller), naming `host` in the Host header. */
  probe(address: string, host: string, port: number, spec: HttpSpec, signal: AbortSignal): Promise<ProbeAnswer>;
  close(): void;
}

const STATUS_WORDS: Record<string, ReportedStatus> = {
  healthy: "healthy",
  ok: "healthy",
  up: "healthy",
  pass: "healthy",
  serving: "healthy",
  degraded: "degraded",
  warn: "degraded",
  warning: "degraded",
  unhealthy: "unhealthy",
  down: "unhealthy",
  fail: "unhealthy",
  error: "unhealthy",
  not_serving: "unhealthy",
};

export function createHttpProber(options: HttpProberOptions): HttpProber {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: HTTP_PROBE_SOCKETS_PER_TARGET,
    maxFreeSockets: HTTP_PROBE_SOCKETS_PER_TARGET,
    maxTotalSockets: options.maxTotalSockets,
    timeout: HTTP_PROBE_IDLE_SOCKET_MS,
    scheduling: "lifo",
  });
  const probe = async (address: string, host: string, port: number, spec: HttpSpec, signal: AbortSignal): Promise<ProbeAnswer> => {
    const target = { address, hostHeader: host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`, port };
    try {
      return await get(agent, target, spec, signal);
    } catch (error) {
      // A kept-alive connection the server closed as we reused it: retry once on a fresh one.
      if ((error as { reusedSocket?: boolean }).reusedSocket === true && !signal.aborted) return get(agent, target, spec, signal);
      throw error;
    }
  };
  return { probe, close: () => agent.destroy() };
}

interface HttpTarget {
  address: string;
  hostHeader: string;
  port: number;
}

function get(agent: http.Agent, target: HttpTarget, spec: HttpSpec, signal: AbortSignal): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      // The checked address itself: a second DNS lookup here could answer differently.
      host: target.address,
      port: target.port,
      path: spec.path,
      method: "GET",
      headers: { accept: "application/json", "user-agent": "grpc-discovery-prober", ...spec.headers, host: target.hostHeader },
      agent,
      signal,
    });
    request.on("error", (error: Error & { reusedSocket?: boolean }) => {
      const code = (error as { code?: string }).code;
      if (request.reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) error.reusedSocket = true;
      reject(error);
    });
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      if (status < spec.expectedStatusMin || status > spec.expectedStatusMax) {
        response.resume(); // drain, so the connection can be reused
        resolve({ ok: false, error: `HTTP ${status}` });
        return;
      }
      const json = /\bjson\b/i.test(response.headers["content-type"] ?? "");
      if (!json) {
        response.resume();
        response.on("end", () => resolve({ ok: true }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > HTTP_PROBE_MAX_BODY_BYTES) {
          request.destroy();
          resolve({ ok: false, error: `answer larger than ${HTTP_PROBE_MAX_BODY_BYTES} bytes` });
          return;
        }
        chunks.push(chunk);
      });
      response.on("end", () => resolve(readHealthBody(Buffer.concat(chunks).toString("utf8"))));
      response.on("error", reject);
    });
    request.end();
  });
}

/** Reads {"status": ..., "load_percentage": ...} from a JSON health answer. */
export function readHealthBody(body: string): ProbeAnswer {
  if (body.trim() === "") return { ok: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // The parser's message quotes the body: the target's bytes must not reach readers.
    return { ok: false, error: "answer is not valid JSON" };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { ok: true };
  const fields = parsed as Record<string, unknown>;
  const rawLoad = fields.load_percentage ?? fields.loadPercentage;
  if (rawLoad !== undefined && typeof rawLoad !== "number") return { ok: false, error: "load_percentage is not a number" };
  const status = typeof fields.status === "string" ? STATUS_WORDS[fields.status.toLowerCase()] : undefined;
  return { ok: true, reportedStatus: status, load: rawLoad };
}
