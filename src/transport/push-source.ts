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
