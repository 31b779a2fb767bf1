// A grpc-js client over protobuf-es schemas (HTTP/2, as grpc-go, grpcio and
// grpcurl connect), with promise-returning unary calls and streams as iterables.
import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/transport/service-definition";

export interface GrpcCallOptions {
  metadata?: Record<string, string>;
  deadlineMs?: number;
}

export class GrpcTestClient<S extends DescService> {
  readonly raw: grpc.Client;

  constructor(
    service: S,
    target: string,
  ) {
    const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
    this.raw = new Client(target, grpc.credentials.createInsecure());
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: { input: I; output: O; localName: string },
    request: MessageInitShape<I>,
    options: GrpcCallOptions = {},
  ): Promise<MessageShape<O>> {
    const fn = (this.raw as unknown as Record<string, Function>)[method.localName]!;
    return new Promise((resolve, reject) => {
      fn.call(
        this.raw,
        create(method.input, request),
        metadataOf(options),
        callOptions(options),
        (error: grpc.ServiceError | null, response: MessageShape<O>) => (error ? reject(error) : resolve(response)),
      );
    });
  }

  serverStream<I extends DescMessage, O extends DescMessage>(
    method: { input: I; output: O; localName: string },
    request: MessageInitShape<I>,
    options: GrpcCallOptions = {},
  ): grpc.ClientReadableStream<MessageShape<O>> {
    const fn = (this.raw as unknown as Record<string, Function>)[method.localName]!;
    return fn.call(this.raw, create(method.input, request), metadataOf(options), callOptions(options));
  }

  bidiStream<I extends DescMessage, O extends DescMessage>(method: {
    input: I;
    output: O;
    localName: string;
  }): grpc.ClientDuplexStream<MessageShape<I>, MessageShape<O>> {
    const fn = (this.raw as unknown as Record<string, Function>)[method.localName]!;
    return fn.call(this.raw);
  }

  close(): void {
    this.raw.close();
  }
}

function metadataOf(options: GrpcCallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

function callOptions(options: GrpcCallOptions): grpc.CallOptions {
  return options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
}

/** Collects a stream's messages into a queue that tests can await one by one. */
export class StreamReader<T> {
  private readonly buffered: T[] = [];
  private waiters: { resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(private readonly stream: NodeJS.EventEmitter) {
    stream.on("data", (message: T) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.buffered.push(message);
    });
    stream.on("error", (error: grpc.ServiceError) => {
      this.error = error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    });
    stream.on("end", () => {
      this.ended = true;
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("stream ended"));
    });
  }

  /** The next message, failing after `timeoutMs`. */
  next(timeoutMs = 5000): Promise<T> {
    const ready = this.buffered.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.reject(new Error("stream ended"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  async take(count: number, timeoutMs = 5000): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Messages that arrived and were not yet taken. */
  get pending(): readonly T[] {
    return this.buffered;
  }

  /** Resolves with the stream's final error (or undefined when it ended cleanly). */
  finished(timeoutMs = 5000): Promise<grpc.ServiceError | undefined> {
    if (this.error || this.ended) return Promise.resolve(this.error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stream still open after ${timeoutMs} ms`)), timeoutMs);
      this.stream.once("error", (e: grpc.ServiceError) => (clearTimeout(timer), resolve(e)));
      this.stream.once("end", () => (clearTimeout(timer), resolve(this.error)));
    });
  }
}
