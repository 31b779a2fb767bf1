// One gRPC call on a node:http2 stream: reading request messages (decompressed,
// bounded), writing response messages through the method's codec, and ending
// with the status in trailers (or trailers-only when nothing was sent).
import * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { frameBytes, type MethodCodecs } from "../codec";
import { Http2CallContext } from "./call-context";
import { ACCEPT_ENCODING, compress, decompress, responseEncoding, type Encoding } from "./compression";
import { startDeadline } from "./deadline";
import { FrameReader } from "./framing";
import { copyMetadata, statusTrailers } from "./status";
import { guarded, type FaultReporter } from "./fault-guard";

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;
/** A client still sending after our status (sent after response headers) is reset this long after it. */
export const STOP_CLIENT_AFTER_STATUS_MS = 1_000;
const RESPONSE_HEADERS = { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": ACCEPT_ENCODING };

export class Http2Call {
  readonly context: Http2CallContext;
  private headersSent = false;
  private finished = false;
  private trailers: Record<string, string> = { "grpc-status": "0" };
  private readonly onEnd = new Set<() => void>();
  private reason: unknown;
  private outEncoding: Encoding = "identity";

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly codecs: MethodCodecs | undefined,
    private readonly maxReceiveBytes: number,
    shutdownSignal: AbortSignal,
    private readonly inEncoding: Encoding = "identity",
    private readonly reportFault: FaultReporter = () => {},
  ) {
    this.context = new Http2CallContext(headers, shutdownSignal, stream);
    stream.once("close", () => {
      if (!this.finished) this.cancel();
    });
    // A deadline already past (grpc-timeout: 0n) ends the call here, before any handler runs.
    const stopDeadline = startDeadline(headers["grpc-timeout"], () => this.finish(new ConnectError("deadline exceeded", Code.DeadlineExceeded)));
    if (!this.finished) this.onEnd.add(stopDeadline);
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
    const reader = new FrameReader(this.maxReceiveBytes);
    const decode = this.codecs!.request.decode;
    const onData = (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) {
          if (this.finished) return;
          const bytes = frame.compressed ? decompress(this.inEncoding, frame.payload, this.maxReceiveBytes) : frame.payload;
          let message: unknown;
          try {
            message = decode(bytes);
          } catch (error) {
            throw new ConnectError(`could not decode the request: ${(error as Error).message}`, Code.InvalidArgument);
          }
          if (onMessage(message) === false) this.stream.pause();
        }
      } catch (error) {
        onError(ConnectError.from(error));
      }
    };
    const guardedData = this.guard(onData);
    this.stream.on("data", guardedData);
    // A reset or a dropped connection may end the readable side of a stream that
    // is already closed: that is a cancel, not a half-close to answer.
    this.stream.once(
      "end",
      this.guard(() => {
        if (this.finished) return;
        if (!this.isOpen) return this.cancel();
        const truncation = reader.truncation;
        if (truncation !== undefined) return onError(new ConnectError(`truncated message: the request ended inside a message (${truncation})`, Code.InvalidArgument));
        onEnd();
      }),
    );
    // Once the call is over nothing more is read or kept.
    this.whenEnded(() => {
      this.stream.removeListener("data", guardedData);
      reader.clear();
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
    this.reportFault(error, String(this.headers[":path"]).slice(0, 200));
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
    const codec = this.codecs!.response;
    const frame = this.outEncoding === "identity" ? codec.frame(message) : frameBytes(compress(this.outEncoding, codec.encode(message)), true);
    return this.stream.write(frame);
  }

  /** Ends the call: OK when error is undefined, else with the error's code and message. */
  finish(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.reason = error;
    this.runEndHooks();
    this.context.abort();
    if (this.stream.closed || this.stream.destroyed) return;
    this.trailers = statusTrailers(error, this.context.setTrailer);
    // A client still sending (we ended early: a limit, a bad message, a deadline,
    // shutdown) is told to stop: RST_STREAM(NO_ERROR) after the status, as gRPC allows.
    const stopClient = !this.stream.readableEnded;
    if (!this.headersSent) {
      // Trailers-only: nothing was sent, so headers and status go in one frame.
      this.headersSent = true;
      this.stream.respond({ ...copyMetadata(this.context.setHeader, {}), ...RESPONSE_HEADERS, ...this.trailers }, { endStream: true });
      if (stopClient) this.stream.once("finish", () => this.isOpen && this.stream.close(NGHTTP2_NO_ERROR));
    } else {
      // A reset sent right after trailers can overtake them (grpc-js then reports
      // "Call ended without gRPC status"), so the client gets time to close first.
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
    const asked = this.context.setHeader?.get("grpc-encoding") ?? null;
    this.outEncoding = responseEncoding(asked, this.headers["grpc-accept-encoding"]);
    const headers: Record<string, string | number> = { ...copyMetadata(this.context.setHeader, {}), ...RESPONSE_HEADERS };
    if (this.outEncoding !== "identity") headers["grpc-encoding"] = this.outEncoding;
    this.stream.respond(headers, { waitForTrailers: true });
    this.stream.once(
      "wantTrailers",
      this.guard(() => {
        if (this.isOpen) this.stream.sendTrailers(this.trailers);
      }),
    );
  }
}
