// A raw gRPC unary call over node:http2, for setting up state before a run.
import * as http2 from "node:http2";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { decode, FrameReader, frameMessage } from "./grpc-frame";

export class RawClient {
  readonly session: http2.ClientHttp2Session;

  constructor(port: number) {
    this.session = http2.connect(`http://127.0.0.1:${port}`);
    this.session.on("error", () => {});
  }

  call<I extends DescMessage, O extends DescMessage>(
    urlPath: string,
    input: I,
    output: O,
    request: MessageInitShape<I>,
  ): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const stream = this.session.request({ ":method": "POST", ":path": urlPath, "content-type": "application/grpc", te: "trailers" });
      const reader = new FrameReader();
      let answer: MessageShape<O> | undefined;
      let status = "";
      stream.on("response", (h) => h["grpc-status"] !== undefined && (status = String(h["grpc-status"])));
      stream.on("trailers", (t) => (status = String(t["grpc-status"])));
      stream.on("data", (chunk: Buffer) => reader.push(chunk, (payload) => (answer = decode(output, payload))));
      stream.on("end", () => (status === "0" && answer !== undefined ? resolve(answer) : reject(new Error(`${urlPath}: grpc-status ${status}`))));
      stream.on("error", reject);
      stream.end(frameMessage(input, request));
    });
  }

  close(): void {
    this.session.close();
  }
}
