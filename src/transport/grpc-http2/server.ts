// gRPC over node:http2, the Transport behind the one-port front: routes each
// stream to its method's handler and codecs. It replaced a @grpc/grpc-js server;
// `npm run bench -- transport-choice` measures the two side by side through the
// same seam (see bench/results). Shared messages go out as one pre-framed
// Buffer; unary answers need no promise; streams honour flow control.
import * as http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { codecsOf, type MethodCodecs, type ServiceCodecs } from "../codec";
import type { AnyHandler, Handlers, Transport } from "../contract";
import { Http2Call } from "./call";
import { requestEncoding } from "./compression";
import { serveCall, type Route } from "./method-kinds";
import { keepPinging } from "./pings";
import type { FaultReporter } from "./fault-guard";
import { limitSession } from "./session-limits";
import { PEER_LIMIT_DEFAULTS } from "../peer-limits";
import { NO_SHUTDOWN } from "../no-shutdown";

/** Largest request message accepted, compressed or decompressed (grpc's usual default). */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = PEER_LIMIT_DEFAULTS.maxMessageBytes;

export interface GrpcHttp2ServerOptions {
  logger: Logger;
  maxReceiveMessageBytes?: number;
  /**
   * Pings each connection this often and drops it when a ping goes unanswered
   * (see pings.ts). 0 turns pings off.
   */
  keepAliveMs?: number;
  /** A ping unanswered this long drops its connection (HTTP2_KEEPALIVE_TIMEOUT_SECONDS). */
  keepAliveTimeoutMs?: number;
  /** Told about each unexpected error a stream raised (the stream is reset, the server goes on). */
  onFault?: FaultReporter;
  /** SETTINGS_MAX_CONCURRENT_STREAMS (HTTP2_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams?: number;
  /** A new connection must open a stream within this (HTTP_HEADERS_TIMEOUT_SECONDS). */
  headersTimeoutMs?: number;
  /** No stream open this long: GOAWAY (HTTP_IDLE_TIMEOUT_SECONDS; 0 never). */
  idleTimeoutMs?: number;
  /** After a GOAWAY, the longest a connection stays for its streams (HTTP2_GOAWAY_GRACE_SECONDS). */
  goawayGraceMs?: number;
  /** The server's shutdown, handed to handlers as `CallContext.shutdownSignal`. */
  shutdownSignal?: AbortSignal;
}

interface RouteWithCodecs extends Route {
  codecs: MethodCodecs;
}

export class GrpcHttp2Server implements Transport {
  private readonly routes = new Map<string, RouteWithCodecs>();
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly maxReceiveBytes: number;
  private readonly shutdownSignal: AbortSignal;

  constructor(private readonly options: GrpcHttp2ServerOptions) {
    this.maxReceiveBytes = options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES;
    this.shutdownSignal = options.shutdownSignal ?? NO_SHUTDOWN;
    const sessionLimits = {
      headersTimeoutMs: options.headersTimeoutMs ?? PEER_LIMIT_DEFAULTS.headersTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? PEER_LIMIT_DEFAULTS.idleTimeoutMs,
      goawayGraceMs: options.goawayGraceMs ?? PEER_LIMIT_DEFAULTS.goawayGraceMs,
    };
    // Watch streams keep many small writes queued per session: allow more than the 10 MB default.
    this.server = http2.createServer({
      maxSessionMemory: 64,
      settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? PEER_LIMIT_DEFAULTS.http2MaxConcurrentStreams },
    });
    this.server.on("session", (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      const stopPinging = keepPinging(session, { intervalMs: options.keepAliveMs, timeoutMs: options.keepAliveTimeoutMs, logger: options.logger });
      const stopLimits = limitSession(session, sessionLimits, options.logger);
      session.once("close", () => {
        this.sessions.delete(session);
        stopPinging();
        stopLimits();
      });
      session.on("error", (error) => options.logger.debug({ err: error }, "http2 session error"));
    });
    this.server.on("stream", (stream, headers) => {
      try {
        this.onStream(stream, headers);
      } catch (error) {
        this.reportFault(error, String(headers[":path"]).slice(0, 200));
        if (!stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
  }

  private readonly reportFault: FaultReporter = (error, path) => {
    this.options.logger.error({ err: error, path }, "unexpected error on a stream; the stream was reset");
    this.options.onFault?.(error, path);
  };

  addService<S extends DescService>(service: S, handlers: Handlers<S>, codecs?: ServiceCodecs<S>): void {
    for (const method of service.methods) {
      const handler = (handlers as Record<string, AnyHandler>)[method.localName];
      if (handler === undefined) continue;
      const given = (codecs as Record<string, Partial<MethodCodecs>> | undefined)?.[method.localName];
      this.routes.set(`/${service.typeName}/${method.name}`, { method, handler, codecs: codecsOf(method, given) });
    }
  }

  /** Serves a connection the front found to speak HTTP/2. */
  accept(socket: Duplex): void {
    this.server.emit("connection", socket);
  }

  /** GOAWAY on every connection: no new calls; the running ones get `graceMs`, then are cut. */
  async drain(graceMs: number): Promise<void> {
    const closed = [...this.sessions].map((session) => new Promise<void>((resolve) => session.close(resolve)));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs).unref()));
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    this.destroy();
  }

  destroy(): void {
    for (const session of this.sessions) session.destroy();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on("error", (error) => this.options.logger.debug({ err: error }, "http2 stream error"));
    if (headers[":method"] !== "POST") return void stream.respond({ ":status": 405 }, { endStream: true });
    const contentType = headers["content-type"] ?? "";
    if (!/^application\/grpc(\+proto)?($|;)/.test(contentType)) return void stream.respond({ ":status": 415 }, { endStream: true });
    const route = this.routes.get(headers[":path"] ?? "");
    const encoding = requestEncoding(headers["grpc-encoding"]);
    const inEncoding = typeof encoding === "string" ? encoding : "identity";
    const call = new Http2Call(stream, headers, route?.codecs, this.maxReceiveBytes, this.shutdownSignal, inEncoding, this.reportFault);
    if (call.isFinished) return; // its deadline had passed already
    if (route === undefined) return call.finish(new ConnectError(`method ${headers[":path"]} is not implemented`, Code.Unimplemented));
    if (typeof encoding !== "string") return call.finish(encoding);
    serveCall(call, route);
  }
}
