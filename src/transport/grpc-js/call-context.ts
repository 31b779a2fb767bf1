// A CallContext over a grpc-js server call: request metadata as Headers, and
// the handler's response headers and trailers as grpc-js Metadata.
import * as grpc from "@grpc/grpc-js";
import type { CallContext } from "../contract";

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

export class GrpcJsCallContext implements CallContext {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private request: Headers | undefined;
  private header: Headers | undefined;
  private trailer: Headers | undefined;
  private headerSent = false;

  constructor(
    private readonly call: AnyCall,
    readonly shutdownSignal: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    (call as grpc.ServerUnaryCall<unknown, unknown>).once("cancelled", () => this.abort());
  }

  get requestHeader(): Headers {
    if (this.request === undefined) {
      this.request = new Headers();
      for (const [key, values] of Object.entries(this.call.metadata.toJSON())) {
        for (const value of values as Array<string | Buffer>) this.request.append(key, typeof value === "string" ? value : value.toString("base64"));
      }
    }
    return this.request;
  }

  get responseHeader(): Headers {
    return (this.header ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.trailer ??= new Headers());
  }

  /** Sends the handler's response headers, once, before the first message. */
  sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    if (this.header !== undefined) this.call.sendMetadata(toMetadata(this.header));
  }

  /** The handler's trailers, plus `extra` (an error's metadata). */
  trailers(extra?: Headers): grpc.Metadata {
    const metadata = toMetadata(this.trailer);
    extra?.forEach((value, key) => addTo(metadata, key, value));
    return metadata;
  }

  abort(): void {
    this.controller.abort();
  }
}

function toMetadata(headers: Headers | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  headers?.forEach((value, key) => addTo(metadata, key, value));
  return metadata;
}

function addTo(metadata: grpc.Metadata, key: string, value: string): void {
  if (key.startsWith("grpc-") || key === "content-type") return;
  if (key.endsWith("-bin")) for (const part of value.split(",")) metadata.add(key, Buffer.from(part.trim(), "base64"));
  else metadata.add(key, value);
}
