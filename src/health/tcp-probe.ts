// TCP probes: passes when a connection to host:port opens; it is closed at once.
import * as net from "node:net";
import type { ProbeAnswer } from "./probe-answer";

export function probeTcp(host: string, port: number, signal: AbortSignal): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = net.connect({ host, port, noDelay: true });
    const done = () => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      done();
      resolve({ ok: true });
    });
    socket.once("error", (error) => {
      done();
      reject(error);
    });
  });
}
