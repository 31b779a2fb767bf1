// Request bodies of the REST routes: read whole, bounded, parsed as JSON. The
// bound is ours to name because a client decides how much it sends.
import type * as http from "node:http";
import { badInput, HttpRefusal } from "./rest-json";

/** The largest REST request body accepted (a Register with full metadata fits many times over). */
export const REST_MAX_BODY_BYTES = 64 * 1024;

/** The body as JSON; 400 naming `body` when it is not JSON, 413 when it is too large. */
export function readJsonBody(request: http.IncomingMessage, limit = REST_MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? "0");
    if (declared > limit) {
      request.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        request.removeListener("data", onData);
        request.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on("data", onData);
    request.once("error", reject);
    request.once("end", () => {
      if (length > limit) return;
      const text = Buffer.concat(chunks, length).toString("utf8");
      if (text.trim() === "") return reject(badInput("body", "is required: a JSON object"));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(badInput("body", "must be valid JSON"));
      }
    });
  });
}

function tooLarge(limit: number): HttpRefusal {
  return new HttpRefusal(413, "payload_too_large", "body", `body: must be at most ${limit} bytes (REST_MAX_BODY_BYTES)`);
}
