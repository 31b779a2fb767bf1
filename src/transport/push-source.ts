// A stream a transport may drain without promises: alongside being an
// AsyncIterable (what connect-node consumes), it can push items synchronously to
// a sink while the sink accepts them. Both gRPC transports (ours and the grpc-js
// one) use this for Watch, where one registry change reaches thousands of streams at once.

export const PUSH = Symbol("discovery.push");

export interface PushSink<T> {
  /** Takes one item; false means "full": stop until resume() is called. */
  write(item: T): boolean;
  /** The source has ended, normally or with an error. */
  end(error?: unknown): void;
}

export interface PushControl {
  /** The sink has room again. */
  resume(): void;
  /** The consumer is gone (reason: why, e.g. its deadline passed): stop and release everything. */
  cancel(reason?: unknown): void;
}

export interface PushSource<T> extends AsyncIterable<T> {
  [PUSH](sink: PushSink<T>): PushControl;
}

export function isPushSource<T>(value: unknown): value is PushSource<T> {
  return typeof value === "object" && value !== null && PUSH in value;
}

export const EACH = Symbol("discovery.each");

/** Hears a call's request messages as they arrive. */
export interface RequestListener<T> {
  message(item: T): void;
  /** The client half-closed: no more messages. */
  end(): void;
  /** The call failed or was cancelled (the reason), or a message was bad. */
  error(error: unknown): void;
}

/**
 * Request messages a transport can hand over synchronously as they arrive,
 * without a promise each: for push handlers whose clients answer every
 * response (xDS ACKs). Used instead of iterating, at most once.
 */
export interface RequestFeed<T> extends AsyncIterable<T> {
  [EACH](listener: RequestListener<T>): void;
}

export function isRequestFeed<T>(value: unknown): value is RequestFeed<T> {
  return typeof value === "object" && value !== null && EACH in value;
}
