// A thin etcd v3 client on @grpc/grpc-js and the protobuf-es messages generated
// from proto-etcd/ (see README "Cluster mode" for why not the etcd3 package).
// Unary KV/Lease/Maintenance calls with a deadline and an AbortSignal; Watch and
// lease keep-alive streams live in watch-stream.ts and lease-keeper.ts.
import { Client, credentials, Metadata, type ChannelOptions } from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { KV, Lease, Maintenance } from "../../../../gen-etcd/etcd/etcdserverpb/rpc_pb";
import { etcdErrorOf } from "./etcd-error";

/** How long one unary call may take before it fails as DEADLINE_EXCEEDED. */
export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 5_000;
/** Largest etcd response we accept (etcd's default request limit is 1.5 MiB; ranges are paged). */
export const ETCD_MAX_RECEIVE_BYTES = 8 * 1024 * 1024;

export interface EtcdClientOptions {
  /** A grpc-js target, from grpcTargetOf(parseEtcdEndpoints(ETCD_ENDPOINTS)). */
  target: string;
  requestTimeoutMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

type Unary<M> = M extends DescMethodUnary<infer I, infer O> ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>> : never;

export interface EtcdClient {
  readonly range: Unary<typeof KV.method.range>;
  readonly put: Unary<typeof KV.method.put>;
  readonly deleteRange: Unary<typeof KV.method.deleteRange>;
  readonly txn: Unary<typeof KV.method.txn>;
  readonly compact: Unary<typeof KV.method.compact>;
  readonly leaseGrant: Unary<typeof Lease.method.leaseGrant>;
  readonly leaseRevoke: Unary<typeof Lease.method.leaseRevoke>;
  readonly leaseTimeToLive: Unary<typeof Lease.method.leaseTimeToLive>;
  readonly status: Unary<typeof Maintenance.method.status>;
  /** The underlying grpc-js client, for the streaming calls. */
  readonly grpc: Client;
  close(): void;
}

/** Channel settings: detect a dead member within ~15 s even when idle, and accept paged ranges. */
const CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.max_receive_message_length": ETCD_MAX_RECEIVE_BYTES,
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

/** Every call asks etcd to refuse it when the member has lost its leader (etcd's "hasleader"). */
export function etcdMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set("hasleader", "true");
  return metadata;
}

export function serializerOf<D extends DescMessage>(schema: D): (value: MessageShape<D>) => Buffer {
  return (value) => Buffer.from(toBinary(schema, value));
}

export function deserializerOf<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(schema, bytes);
}

export function pathOf(method: { parent: { typeName: string }; name: string }): string {
  return `/${method.parent.typeName}/${method.name}`;
}

export function createEtcdClient(options: EtcdClientOptions): EtcdClient {
  const grpc = new Client(options.target, credentials.createInsecure(), CHANNEL_OPTIONS);
  const defaultTimeout = options.requestTimeoutMs ?? DEFAULT_ETCD_REQUEST_TIMEOUT_MS;

  function unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>) {
    const path = pathOf(method);
    const serialize = serializerOf(method.input);
    const deserialize = deserializerOf(method.output);
    return (request: MessageInitShape<I>, callOptions: CallOptions = {}): Promise<MessageShape<O>> =>
      new Promise((resolve, reject) => {
        const { signal } = callOptions;
        if (signal?.aborted) return reject(etcdErrorOf(signal.reason ?? new Error("aborted"), method.name));
        const deadline = new Date(Date.now() + (callOptions.timeoutMs ?? defaultTimeout));
        const call = grpc.makeUnaryRequest(path, serialize, deserialize, create(method.input, request), etcdMetadata(), { deadline }, (error, response) => {
          signal?.removeEventListener("abort", cancel);
          if (error || response === undefined) reject(etcdErrorOf(error ?? new Error("empty response"), method.name));
          else resolve(response);
        });
        const cancel = () => call.cancel();
        signal?.addEventListener("abort", cancel, { once: true });
      });
  }

  return {
    range: unary(KV.method.range),
    put: unary(KV.method.put),
    deleteRange: unary(KV.method.deleteRange),
    txn: unary(KV.method.txn),
    compact: unary(KV.method.compact),
    leaseGrant: unary(Lease.method.leaseGrant),
    leaseRevoke: unary(Lease.method.leaseRevoke),
    leaseTimeToLive: unary(Lease.method.leaseTimeToLive),
    status: unary(Maintenance.method.status),
    grpc,
    close: () => grpc.close(),
  } as EtcdClient;
}
