// The etcd transactions cluster mode makes: a put or delete of one instance key
// guarded by its mod revision (the rules judged from that revision; anything
// newer is a conflict), and the election that picks one adopter of a dead node.
import { create } from "@bufbuild/protobuf";
import { Compare_CompareResult, Compare_CompareTarget, TxnRequestSchema, type TxnResponse } from "../../../gen-etcd/etcd/etcdserverpb/rpc_pb";
import type { EtcdClient } from "./client/etcd-client";

export type GuardedOp = { readonly t: "put"; readonly value: Uint8Array; readonly lease: bigint } | { readonly t: "delete" };

export type GuardedResult = { readonly ok: true; readonly revision: number } | { readonly ok: false; readonly actual: number };

/** Applies `op` to `key` only if its mod revision is `expect` (0: the key must not exist). */
export async function guardedWrite(client: EtcdClient, key: Uint8Array, expect: number, op: GuardedOp, signal?: AbortSignal): Promise<GuardedResult> {
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
    { signal },
  );
  if (response.succeeded) return { ok: true, revision: Number(response.header?.revision ?? 0n) };
  const range = response.responses[0]?.response;
  const actual = range?.case === "responseRange" ? Number(range.value.kvs[0]?.modRevision ?? 0n) : 0;
  return { ok: false, actual };
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
