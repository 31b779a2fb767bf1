// The etcd transactions cluster mode makes: a put or delete of one instance key
// guarded by its mod revision (the rules judged from that revision; anything
// newer is a conflict), and the election that picks one adopter of a dead node.
import { create } from "@bufbuild/protobuf";
import { Compare_CompareResult, Compare_CompareTarget, TxnRequestSchema, type TxnResponse } from "../../../gen-etcd/etcd/etcdserverpb/rpc_pb";
import { sleep } from "../../client/backoff";
import type { EtcdClient } from "./client/etcd-client";
import { EtcdError } from "./client/etcd-error";

/** How long a write keeps retrying a transient failure (a member down, a leader election) before it fails. */
export const WRITE_RETRY_BUDGET_MS = 8_000;
/** One attempt's deadline within that budget: a dead member is left for the next one quickly. */
export const WRITE_ATTEMPT_TIMEOUT_MS = 2_000;

export type GuardedOp = { readonly t: "put"; readonly value: Uint8Array; readonly lease: bigint } | { readonly t: "delete" };

export type GuardedResult =
  | { readonly ok: true; readonly revision: number }
  /** `actual`: the key's mod revision (0: absent); `value`: what it holds. */
  | { readonly ok: false; readonly actual: number; readonly value?: Uint8Array };

/**
 * guardedWrite, retried on transient failures within WRITE_RETRY_BUDGET_MS. An
 * attempt that timed out may still have committed: a retry that then finds our
 * own value in place counts it as done.
 */
export async function guardedWriteWithRetry(
  client: EtcdClient,
  key: Uint8Array,
  expect: number,
  op: GuardedOp,
  options: { signal?: AbortSignal; worthRetrying?: () => boolean } = {},
): Promise<GuardedResult> {
  const { signal } = options;
  const deadline = Date.now() + WRITE_RETRY_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await guardedWrite(client, key, expect, op, signal, WRITE_ATTEMPT_TIMEOUT_MS);
      if (!result.ok && attempt > 1 && op.t === "put" && result.value !== undefined && sameBytes(result.value, op.value)) return { ok: true, revision: result.actual };
      return result;
    } catch (error) {
      const retry = error instanceof EtcdError && error.retryable && (options.worthRetrying?.() ?? true);
      if (!retry || Date.now() + 100 > deadline || signal?.aborted) throw error;
      await sleep(Math.min(100 * 2 ** attempt, 1_000), signal);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Applies `op` to `key` only if its mod revision is `expect` (0: the key must not exist). */
export async function guardedWrite(client: EtcdClient, key: Uint8Array, expect: number, op: GuardedOp, signal?: AbortSignal, timeoutMs?: number): Promise<GuardedResult> {
  const request =
    op.t === "put"
      ? { case: "requestPut" as const, value: { key, value: op.value, lease: op.lease } }
      : { case: "requestDeleteRange" as const, value: { key } };
  const response: TxnResponse = await client.txn(
    create(TxnRequestSchema, {
      compare: [{ result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.MOD, key, targetUnion: { case: "modRevision", value: BigInt(expect) } }],
      success: [{ request }],
      failure: [{ request: { case: "requestRange", value: { key } } }],
    }),
    { signal, timeoutMs },
  );
  if (response.succeeded) return { ok: true, revision: Number(response.header?.revision ?? 0n) };
  const range = response.responses[0]?.response;
  const current = range?.case === "responseRange" ? range.value.kvs[0] : undefined;
  return { ok: false, actual: Number(current?.modRevision ?? 0n), value: current?.value };
}

/** Creates `key` on `lease` if nobody has: true for the one caller that did (an election among survivors). */
export async function createIfAbsent(client: EtcdClient, key: Uint8Array, value: Uint8Array, lease: bigint): Promise<boolean> {
  const response = await client.txn(
    create(TxnRequestSchema, {
      compare: [{ result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.VERSION, key, targetUnion: { case: "version", value: 0n } }],
      success: [{ request: { case: "requestPut", value: { key, value, lease } } }],
    }),
  );
  return response.succeeded;
}
