// The same fan-out load as watch-fanout-client, against etcd: each subscriber is
// an etcd Watch on a prefix, and each change a Put under it.
import { performance } from "node:perf_hooks";
import { ETCD, putRequest, watchPrefixRequest, watchResponseHasEvents } from "../lib/etcd-wire";
import { FrameReader } from "../lib/grpc-frame";
import { runFanoutClient, type FanoutTarget } from "./watch-fanout-client";

const headers = (path: string) => ({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
const watchBody = watchPrefixRequest("/fanout/");

export const etcdWatch: FanoutTarget = {
  subscribe(session, onSynced, onEvent) {
    const stream = session.request(headers(ETCD.watch));
    const reader = new FrameReader();
    let created = false;
    stream.on("data", (chunk: Buffer) => {
      const now = performance.now();
      reader.push(chunk, (payload) => {
        if (!created) {
          created = true; // the first answer confirms the watch
          onSynced();
        } else if (watchResponseHasEvents(payload)) onEvent(now);
      });
    });
    stream.on("error", () => {});
    stream.write(watchBody); // the request side stays open: closing it would end the watch
  },
  change(session, k) {
    const stream = session.request(headers(ETCD.put));
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.end(putRequest("/fanout/hot", String(k)));
  },
  async prepare() {},
};

if (require.main === module) void runFanoutClient(etcdWatch);
