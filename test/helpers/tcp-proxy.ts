// A TCP proxy on a free 127.0.0.1 port in front of a server, whose connections a
// test can cut at will: a real network failure, as a client sees it.
import * as net from "node:net";

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Connections currently open through the proxy. */
  readonly openConnections: number;
  /** Destroys every open connection (both sides); new ones are accepted. */
  cutAll(): void;
  /**
   * Stops forwarding on every open connection without closing it: a silent
   * partition (a pulled cable, a NAT that forgot the flow), as neither side sees it.
   */
  freezeAll(): void;
  /** Cuts every connection and refuses new ones until resume(): the server is unreachable. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let paused = false;
  const server = net.createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    // Forward each write at once, as a real proxy does: with Nagle's algorithm on,
    // HTTP/2's small WINDOW_UPDATE and PING frames waited out delayed ACKs, and a
    // large Watch snapshot crossed the proxy at half the speed it crosses a socket.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cutAll = () => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  const freezeAll = () => {
    for (const [a, b] of pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.on("data", () => {}); // keep reading, forward nothing
      b.on("data", () => {});
    }
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get openConnections() {
      return pairs.size;
    },
    cutAll,
    freezeAll,
    pause: () => {
      paused = true;
      cutAll();
    },
    resume: () => {
      paused = false;
    },
    close: () => {
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
