// One gRPC call on a node:http2 stream: reading request frames, the call's
// context (headers, deadline, cancellation), writing response frames, and ending
// with trailers (or trailers-only when nothing was sent). See grpc-http2.ts.
import * as http2 from "node:http2";
import { fromBinary, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeFramed } from "../wire-cache";
import type { CallContext } from "../contract";
import { guarded, type FaultReporter } from "./fault-guard";
import { MAX_STATUS_MESSAGE_BYTES } from "../peer-limits";

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;
/** A client still sending after our status (sent after headers) is reset this long after it. */
export const STOP_CLIENT_AFTER_STATUS_MS = 1_000;
const RESPONSE_HEADERS = { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": "identity" };

/** A call's context, built lazily: a handler that reads neither costs no AbortController nor Headers. */
export class Http2CallContext implements CallContext {
  private controller: AbortController | undefined;
  private headers: Headers | undefined;
  private aborted = false;

  constructor(
    private readonly raw: http2.IncomingHttpHeaders,
    readonly shutdownSignal: AbortSignal,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  get requestHeader(): Headers {
    if (this.headers === undefined) {
      this.headers = new Headers();
      for (const [key, value] of Object.entries(this.raw)) {
        if (key.startsWith(":") || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) this.headers.append(key, v);
      }
    }
    return this.headers;
  }

  /** The call is over (finished, cancelled or past its deadline). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
  }
}

export class Http2Call {
  readonly context: Http2CallContext;
  private headersSent = false;
  private finished = false;
  private trailers: Record<string, string> = { "grpc-status": "0" };
  private readonly onEnd = new Set<() => void>();
  private reason: unknown;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    private readonly method: DescMethod,
    private readonly maxReceiveBytes: number,
    shutdownSignal: AbortSignal,
    private readonly reportFault: FaultReporter = () => {},
  ) {
    this.context = new Http2CallContext(headers, shutdownSignal);
    stream.once("close", () => {
      if (!this.finished) this.cancel();
    });
    const timeout = parseTimeout(headers["grpc-timeout"]);
    // A deadline already past (grpc-timeout: 0n) ends the call before any handler runs.
    if (timeout === 0) this.finish(new ConnectError("deadline exceeded before the call started", Code.DeadlineExceeded));
    else if (timeout !== undefined) {
      const timer = setTimeout(() => this.finish(new ConnectError("deadline exceeded", Code.DeadlineExceeded)), timeout);
      timer.unref();
      this.onEnd.add(() => clearTimeout(timer));
    }
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Why the call ended: undefined for OK, else the error (deadline, cancellation...). */
  get endReason(): unknown {
    return this.reason;
  }

  /** Runs `fn` once the call ends, however it ends; returns a function that forgets it. */
  whenEnded(fn: () => void): () => void {
    if (this.finished) {
      fn();
      return () => {};
    }
    this.onEnd.add(fn);
    return () => this.onEnd.delete(fn);
  }

  /**
   * Decoded request messages as they arrive; `onMessage` returns false to pause
   * the stream (flow control then holds the peer back) until resume() is called.
   */
  readRequests(onMessage: (message: unknown) => boolean | void, onEnd: () => void, onError: (error: ConnectError) => void): { resume(): void } {
    const input = this.method.input as DescMessage;
    // Chunks of the frame being read, joined once it is complete (never recopied per chunk).
    let chunks: Buffer[] = [];
    let length = 0;
    const take = (count: number): Buffer => {
      const joined = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      chunks = count < joined.length ? [joined.subarray(count)] : [];
      length -= count;
      return joined.subarray(0, count);
    };
    let expected = -1; // payload length of the frame being read, once its header is in
    const onData = this.guard((chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      while (!this.finished) {
        if (expected < 0) {
          if (length < 5) return;
          const header = take(5);
          if (header[0] !== 0) return onError(new ConnectError("compressed messages are not supported; send grpc-encoding identity", Code.Unimplemented));
          expected = header.readUInt32BE(1);
          if (expected > this.maxReceiveBytes) {
            return onError(new ConnectError(`request message of ${expected} bytes is larger than the limit of ${this.maxReceiveBytes} (DISCOVERY_MAX_MESSAGE_BYTES)`, Code.ResourceExhausted));
          }
        }
        if (length < expected) return;
        const payload = take(expected);
        expected = -1;
        let message: unknown;
        try {
          message = fromBinary(input, payload);
        } catch (error) {
          return onError(new ConnectError(`could not decode the request: ${(error as Error).message}`, Code.InvalidArgument));
        }
        if (onMessage(message) === false) this.stream.pause();
      }
    });
    this.stream.on("data", onData);
    // A reset or a dropped connection may end the readable side of a stream that
    // is already closed: that is a cancel, not a half-close to answer.
    this.stream.once(
      "end",
      this.guard(() => {
        if (this.finished) return;
        if (!this.isOpen) return this.cancel();
        if (expected >= 0 || length > 0) return onError(new ConnectError(`truncated message: the request ended inside a message (${length} bytes of ${expected < 0 ? "a header" : expected} received)`, Code.InvalidArgument));
        onEnd();
      }),
    );
    // Once the call is over nothing more is read or kept.
    this.whenEnded(() => {
      this.stream.removeListener("data", onData);
      chunks = [];
    });
    return { resume: () => this.stream.resume() };
  }

  /**
   * Calls `fn` when the client has half-closed, but not when the stream was reset:
   * a reset stream may also end its readable side, so wait a turn and look.
   */
  whenHalfClosed(fn: () => void): () => void {
    return () =>
      setImmediate(() => {
        const reset = this.stream.aborted || (this.stream.rstCode !== undefined && this.stream.rstCode !== 0);
        if (!this.finished && !reset) fn();
      });
  }

  /**
   * Wraps a listener or callback of this call: an error it throws is reported,
   * the stream is reset and the call cancelled; it never reaches the process.
   */
  guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return guarded(fn, (error) => this.fault(error));
  }

  /** An unexpected error on this call: reported, the stream reset, the call released. */
  fault(error: unknown): void {
    this.reportFault(error, this.method?.name ?? "unknown");
    if (this.isOpen) this.stream.close(NGHTTP2_INTERNAL_ERROR);
    this.cancel();
  }

  /** The stream can still take headers, messages and trailers. */
  private get isOpen(): boolean {
    return !this.stream.destroyed && !this.stream.closed;
  }

  /** Writes one response message; false when the stream is full (wait for "drain") or gone. */
  write(message: unknown): boolean {
    if (this.finished) return false;
    // The peer may have reset the stream before its "close" event reached us.
    if (!this.isOpen) {
      this.cancel();
      return false;
    }
    this.sendHeaders();
    return this.stream.write(encodeFramed(this.method.output as DescMessage, message as never));
  }

  /** Ends the call: OK when error is undefined, else with the error's code and message. */
  finish(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.reason = error;
    this.runEndHooks();
    this.context.abort();
    if (this.stream.closed || this.stream.destroyed) return;
    if (error !== undefined) {
      const e = error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal);
      this.trailers = { "grpc-status": String(e.code), "grpc-message": percentEncode(capped(e.rawMessage)) };
    }
    // A client still sending (we ended early: a limit, a bad message, a deadline,
    // shutdown) is told to stop: RST_STREAM(NO_ERROR) after the status, as gRPC allows.
    const stopClient = !this.stream.readableEnded;
    if (!this.headersSent) {
      // Trailers-only: nothing was sent, so headers and status go in one frame.
      this.headersSent = true;
      this.stream.respond({ ...RESPONSE_HEADERS, ...this.trailers }, { endStream: true });
      if (stopClient) this.stream.once("finish", () => this.isOpen && this.stream.close(NGHTTP2_NO_ERROR));
    } else {
      // A reset sent with trailers can overtake them (the client then sees no
      // status, measured with grpc-js), so the client gets time to close first.
      if (stopClient) {
        const timer = setTimeout(() => this.isOpen && this.stream.close(NGHTTP2_NO_ERROR), STOP_CLIENT_AFTER_STATUS_MS);
        timer.unref();
        this.stream.once("close", () => clearTimeout(timer));
      }
      this.stream.end();
    }
  }

  private runEndHooks(): void {
    const hooks = [...this.onEnd];
    this.onEnd.clear();
    for (const fn of hooks) fn();
  }

  /** The client went away (or the connection did): stop, send nothing. */
  private cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.reason = new ConnectError("the client cancelled the call", Code.Canceled);
    // Aborted first, so whatever the end hooks stop sees a cancelled call.
    this.context.abort();
    this.runEndHooks();
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.stream.once(
      "wantTrailers",
      this.guard(() => {
        if (this.isOpen) this.stream.sendTrailers(this.trailers);
      }),
    );
  }
}

const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };
/** The longest delay a Node timer takes; a longer deadline is as good as none. */
const MAX_TIMER_MS = 2_147_483_647;

/** grpc-timeout: up to 8 digits and a unit (H, M, S, m, u, n). */
function parseTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  const ms = Math.max(0, Math.ceil(Number(match[1]) * TIMEOUT_UNITS[match[2]!]!));
  // setTimeout would clamp a longer delay to 1 ms and end the call at once.
  return ms > MAX_TIMER_MS ? undefined : ms;
}

/** At most MAX_STATUS_MESSAGE_BYTES of UTF-8, cut at a character boundary: a peer's huge input is never echoed whole. */
function capped(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_BYTES / 4) return message;
  const bytes = Buffer.from(message, "utf8");
  if (bytes.length <= MAX_STATUS_MESSAGE_BYTES) return message;
  return `${bytes.subarray(0, MAX_STATUS_MESSAGE_BYTES - 3).toString("utf8").replace(/\uFFFD$/, "")}...`;
}

/** grpc-message is percent-encoded UTF-8: printable ASCII but '%' stays as is. */
function percentEncode(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
