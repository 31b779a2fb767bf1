// A Watch stream on a bare node:http2 session: a peer that can truly stop
// reading (pause) so that HTTP/2 flow control pushes back on the server.
// (grpc-js's client keeps reading into its own memory while paused.)
import { EventEmitter } from "node:events";
import * as http2 from "node:http2";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { WatchEventSchema, WatchRequestSchema, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";

export class RawWatchStream extends EventEmitter {
  private readonly session: http2.ClientHttp2Session;
  private readonly stream: http2.ClientHttp2Stream;
  private buffered: Buffer = Buffer.alloc(0);

  constructor(target: string, request: MessageInitShape<typeof WatchRequestSchema>) {
    super();
    this.session = http2.connect(`http://${target}`);
    this.session.on("error", () => {});
    this.stream = this.session.request({
      ":method": "POST",
      ":path": "/discovery.v1.DiscoveryService/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const body = toBinary(WatchRequestSchema, create(WatchRequestSchema, request));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    Buffer.from(body).copy(frame, 5);
    this.stream.end(frame);
    this.stream.pause();
  }

  /** Starts reading; each decoded event is emitted as "data". */
  resume(): void {
    this.stream.on("data", (chunk: Buffer) => this.onData(chunk));
    this.stream.resume();
  }

  close(): void {
    this.stream.close();
    this.session.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 5) {
      const length = this.buffered.readUInt32BE(1);
      if (this.buffered.length < 5 + length) return;
      const event: WatchEvent = fromBinary(WatchEventSchema, this.buffered.subarray(5, 5 + length));
      this.buffered = this.buffered.subarray(5 + length);
      this.emit("data", event);
    }
  }
}
