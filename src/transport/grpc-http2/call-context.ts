// A call's context as handlers see it, built lazily: a handler that reads none
// of it costs no AbortController and no Headers (the heartbeat path).
import type * as http2 from "node:http2";
import type { CallContext } from "../contract";
import { peerContextValues } from "../peer-identity";

export class Http2CallContext implements CallContext {
  private controller: AbortController | undefined;
  private request: Headers | undefined;
  private header: Headers | undefined;
  private trailer: Headers | undefined;
  private aborted = false;

  constructor(
    private readonly raw: http2.IncomingHttpHeaders,
    readonly shutdownSignal: AbortSignal,
    private readonly stream?: http2.ServerHttp2Stream,
  ) {}

  /** The connection's TLS client identities, read only by calls that check credentials. */
  get values() {
    return peerContextValues(this.stream?.session?.socket);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  get requestHeader(): Headers {
    if (this.request === undefined) {
      this.request = new Headers();
      for (const [key, value] of Object.entries(this.raw)) {
        if (key.startsWith(":") || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) this.request.append(key, v);
      }
    }
    return this.request;
  }

  get responseHeader(): Headers {
    return (this.header ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.trailer ??= new Headers());
  }

  /** The response headers a handler set, if it touched them. */
  get setHeader(): Headers | undefined {
    return this.header;
  }

  /** The trailers a handler set, if it touched them. */
  get setTrailer(): Headers | undefined {
    return this.trailer;
  }

  /** The call is over (finished, cancelled or past its deadline). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
  }
}
