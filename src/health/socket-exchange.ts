// One short conversation over TCP for the protocol probes (redis, postgres):
// write a request, read until the answer can be judged, close. What the peer
// sends is capped; the probe's signal (its timeout) ends it at any point.
import * as net from "node:net";
import type { ProbeAnswer } from "./probe-answer";

/** The most a protocol probe reads from its peer before giving up on the answer. */
export const PROBE_ANSWER_CAP_BYTES = 16 * 1024;

/** Judges what arrived so far: an answer, or undefined to read more. */
export type AnswerReader = (received: Buffer) => ProbeAnswer | undefined;

export function exchange(host: string, port: number, request: Buffer, read: AnswerReader, signal: AbortSignal): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = net.connect({ host, port, noDelay: true });
    let received = Buffer.alloc(0);
    const finish = (settle: () => void) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      settle();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = read(received);
      if (answer !== undefined) return finish(() => resolve(answer));
      if (received.length > PROBE_ANSWER_CAP_BYTES) finish(() => resolve({ ok: false, error: `answer longer than ${PROBE_ANSWER_CAP_BYTES} bytes` }));
    });
    socket.once("end", () => finish(() => resolve({ ok: false, error: "connection closed before an answer" })));
    socket.once("error", (error) => finish(() => reject(error)));
  });
}

/** Peer text fit for a probe's error: printable ASCII only, at most 120 characters. */
export function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 120 ? clean.slice(0, 117) + "..." : clean;
}
