// The ceiling: a bare node:http2 server that answers every POST with a fixed
// gRPC response (one empty message, grpc-status 0) without decoding anything.
import * as http2 from "node:http2";

const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);
const server = http2.createServer();
server.on("stream", (stream) => {
  stream.on("data", () => {});
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(EMPTY_MESSAGE);
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
