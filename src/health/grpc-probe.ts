// gRPC probes: grpc.health.v1.Health/Check over one channel per host:port,
// shared by every instance at that address and closed when none is left.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, type HealthCheckResponse } from "../../gen/grpc/health/v1/health_pb";
import { grpcMethodDefinition } from "../transport/service-definition";
import type { ProbeAnswer } from "./probe-answer";
import type { ResolvedAddress } from "./probe-address";

/** Reconnect backoff bounds: a recovered target is seen within a few probes, not minutes. */
export const GRPC_PROBE_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 500,
  "grpc.max_reconnect_backoff_ms": 5_000,
  "grpc.enable_retries": 0,
};

const CHECK = grpcMethodDefinition(Health, Health.method.check);

export interface GrpcProber {
  /** Takes a share of the channel to host:port (opened on first use). */
  acquire(host: string, port: number): void;
  /** Gives the share back; the channel closes when no instance uses it. */
  release(host: string, port: number): void;
  /** Checks host:port's health by dialing `address` (resolved and checked by the caller). */
  probe(host: string, port: number, address: ResolvedAddress, service: string, signal: AbortSignal, timeoutMs: number): Promise<ProbeAnswer>;
  /** How many channels are open (for tests and metrics). */
  readonly channels: number;
  close(): void;
}

interface Channel {
  client: grpc.Client | undefined;
  /** The checked address the client dials ("ipv4:" / "ipv6:" targets: grpc-js never resolves or dials a Unix socket for them). */
  dialed: string | undefined;
  users: number;
}

export function createGrpcProber(): GrpcProber {
  const pool = new Map<string, Channel>();
  const targetOf = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);
  const channel = (target: string): Channel => {
    let entry = pool.get(target);
    if (entry === undefined) {
      entry = { client: undefined, dialed: undefined, users: 0 };
      pool.set(target, entry);
    }
    return entry;
  };
  /** The entry's client for `address`, replacing it when the host now resolves elsewhere. */
  const clientFor = (entry: Channel, address: ResolvedAddress, port: number): grpc.Client => {
    const dialed = address.family === 6 ? `ipv6:[${address.address}]:${port}` : `ipv4:${address.address}:${port}`;
    if (entry.client === undefined || entry.dialed !== dialed) {
      entry.client?.close();
      entry.client = new grpc.Client(dialed, grpc.credentials.createInsecure(), GRPC_PROBE_CHANNEL_OPTIONS);
      entry.dialed = dialed;
    }
    return entry.client;
  };
  return {
    get channels() {
      return pool.size;
    },
    acquire(host, port) {
      channel(targetOf(host, port)).users++;
    },
    release(host, port) {
      const target = targetOf(host, port);
      const entry = pool.get(target);
      if (entry === undefined || --entry.users > 0) return;
      pool.delete(target);
      entry.client?.close();
    },
    probe(host, port, address, service, signal, timeoutMs) {
      const target = targetOf(host, port);
      const entry = channel(target);
      // A probe of an address no instance holds borrows the channel for this call only.
      const returnBorrowed = () => {
        if (entry.users === 0 && pool.get(target) === entry) {
          pool.delete(target);
          entry.client?.close();
        }
      };
      const client = clientFor(entry, address, port);
      return new Promise<ProbeAnswer>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const call = client.makeUnaryRequest(
          CHECK.path,
          CHECK.requestSerialize,
          CHECK.responseDeserialize as (bytes: Buffer) => HealthCheckResponse,
          create(HealthCheckRequestSchema, { service }),
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs + 1_000 }, // our own timer fires first; the deadline is a backstop
          (error, response) => {
            signal.removeEventListener("abort", onAbort);
            if (signal.aborted) return reject(signal.reason);
            // The code only: details are the target's own text, not ours to show to readers.
            if (error) return resolve({ ok: false, error: `gRPC ${grpc.status[error.code] ?? error.code}` });
            const status = response?.status ?? HealthCheckResponse_ServingStatus.UNKNOWN;
            if (status === HealthCheckResponse_ServingStatus.SERVING) return resolve({ ok: true });
            resolve({ ok: false, error: `gRPC health ${HealthCheckResponse_ServingStatus[status] ?? status}` });
          },
        );
        const onAbort = () => call.cancel();
        signal.addEventListener("abort", onAbort, { once: true });
      }).finally(returnBorrowed);
    },
    close() {
      for (const entry of pool.values()) entry.client?.close();
      pool.clear();
    },
  };
}
