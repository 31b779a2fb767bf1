// GET /v1/watch as Server-Sent Events against the real server: curl follows
// changes, Last-Event-ID resumes without loss or repeats, bad input is a 400
// naming the field, a reader that stops reading is RESET like a gRPC watcher,
// and Chromium's EventSource receives events and resumes after a cut.
import * as net from "node:net";
import { spawnChild, type Child } from "../helpers/child-process";
import { launchChromium, type Chromium } from "../helpers/chromium";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { seedInstance } from "../helpers/seed-instance";
import { waitFor } from "../helpers/wait-for";

interface SseEvent {
  id?: string;
  event?: string;
  data: { type: string; revision?: string; reason?: string; instance?: { instanceId: string } } & Record<string, unknown>;
}

/** The events in an SSE text (comments and `retry:` skipped). */
function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    const event: Partial<SseEvent> = {};
    for (const line of block.split("\n")) {
      const at = line.indexOf(":");
      if (at <= 0) continue;
      const [field, value] = [line.slice(0, at), line.slice(at + 1).replace(/^ /, "")];
      if (field === "id") event.id = value;
      if (field === "event") event.event = value;
      if (field === "data") event.data = JSON.parse(value) as SseEvent["data"];
    }
    if (event.data !== undefined) events.push(event as SseEvent);
  }
  return events;
}

const kinds = (events: SseEvent[]) => events.map((e) => `${e.data.type.replace("EVENT_TYPE_", "")}${e.data.instance ? ` ${e.data.instance.instanceId}` : ""}`);

describe("GET /v1/watch (Server-Sent Events)", () => {
  let server: TestServer;
  let curl: Child | undefined;

  beforeEach(async () => {
    server = await startTestServer({ watchQueueLimit: 8 });
  });
  afterEach(async () => {
    curl?.kill("SIGKILL");
    await server.close();
  });

  const register = (id: string, metadata: Record<string, string> = {}) => seedInstance(server, "users", id, { metadata });

  test("curl -N follows a service: RESET, snapshot, SYNCED with its id, then live events with theirs", async () => {
    register("u1");
    seedInstance(server, "orders", "o1");
    curl = spawnChild("curl", ["-N", "-s", `${server.baseUrl}/v1/watch?service=users`]);
    await curl.waitForLine(/"EVENT_TYPE_SYNCED"/);
    register("u2");
    await server.registry.unregister("users", "u1");
    await curl.waitForLine(/"EVENT_TYPE_UNREGISTERED"/);
    const events = parseSse(curl.lines.join("\n"));
    expect(kinds(events)).toEqual(["RESET", "SNAPSHOT u1", "SYNCED", "REGISTERED u2", "UNREGISTERED u1"]);
    expect(events[0]!.data.reason).toBe("fresh-start");
    expect(events[1]!.id).toBeUndefined(); // a snapshot event is not a resume point
    for (const e of events.slice(2)) expect(e.id).toBe(e.data.revision);
    expect(curl.lines[0]).toBe("retry: 1000");
  });

  test("Last-Event-ID resumes after the last event seen: nothing missed, nothing repeated, no snapshot", async () => {
    register("u1");
    const first = await fetchEvents(`${server.baseUrl}/v1/watch?service=users`, 3);
    const synced = first.find((e) => e.data.type === "EVENT_TYPE_SYNCED")!;
    register("u2");
    register("u3");
    const resumed = await fetchEvents(`${server.baseUrl}/v1/watch?service=users&since=1`, 3, { "last-event-id": synced.id! });
    expect(kinds(resumed)).toEqual(["REGISTERED u2", "REGISTERED u3", "SYNCED"]);
  });

  test("bad input is a 400 naming the field, and changes nothing", async () => {
    for (const [query, field] of [
      ["since=abc", "since"],
      ["since=-1", "since"],
      ["service=bad%20name!", "service_names"],
    ] as const) {
      const answer = await fetch(`${server.baseUrl}/v1/watch?${query}`);
      expect(answer.status).toBe(400);
      const body = (await answer.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_argument");
      expect(body.message).toContain(field);
    }
    const header = await fetch(`${server.baseUrl}/v1/watch`, { headers: { "last-event-id": "12x" } });
    expect(header.status).toBe(400);
    expect(((await header.json()) as { message: string }).message).toContain("Last-Event-ID");
    expect(server.hub.watcherCount).toBe(0);
  });

  test("a reader that stops reading is RESET (slow-consumer) and gets a fresh snapshot", async () => {
    register("u1");
    const socket = net.connect(server.port, "127.0.0.1");
    socket.write(`GET /v1/watch?service=users HTTP/1.1\r\nHost: x\r\n\r\n`);
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    await waitFor(() => received.includes("EVENT_TYPE_SYNCED"), 3000, "synced");
    socket.pause();
    // Large events fill the socket buffers; then the subscription's queue (8) overflows.
    const big = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`k${k}`, "x".repeat(500)]));
    for (let i = 0; i < 20_000 && server.hub.slowResets === 0; i++) {
      register("u1", { ...big, n: String(i) });
      await new Promise((resolve) => setImmediate(resolve)); // let the hub deliver
    }
    expect(server.hub.slowResets).toBe(1);
    socket.resume();
    await waitFor(() => received.includes('"slow-consumer"') && received.lastIndexOf("EVENT_TYPE_SYNCED") > received.indexOf('"slow-consumer"'), 10_000, "reset and resynced");
    socket.destroy();
  }, 30_000);

  test("the server's shutdown ends the stream with an error event naming UNAVAILABLE", async () => {
    curl = spawnChild("curl", ["-N", "-s", `${server.baseUrl}/v1/watch`]);
    await curl.waitForLine(/"EVENT_TYPE_SYNCED"/);
    await server.close();
    expect(await curl.exited).toBe(0);
    const error = parseSse(curl.lines.join("\n")).find((e) => e.event === "error");
    expect(error?.data).toMatchObject({ code: "unavailable" });
  });
});

describe("GET /v1/watch with the browser's EventSource", () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let browser: Chromium;

  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(() => browser.close());
  beforeEach(async () => {
    server = await startTestServer();
    proxy = await startTcpProxy(server.port);
  });
  afterEach(async () => {
    await proxy.close();
    await server.close();
  });

  test("receives events and, after its connection is cut, resumes with Last-Event-ID", async () => {
    const register = (id: string) => seedInstance(server, "web", id);
    register("w1");
    const page = await browser.context.newPage();
    // The dashboard's origin is the proxy's: EventSource runs same-origin.
    await page.goto(`${proxy.url}/`);
    await page.evaluate(() => {
      const w = window as unknown as { got: string[]; opens: number };
      w.got = [];
      w.opens = 0;
      const source = new EventSource("/v1/watch?service=web");
      source.onopen = () => w.opens++;
      source.onmessage = (m: MessageEvent<string>) => {
        const e = JSON.parse(m.data) as { type: string; instance?: { instanceId: string } };
        w.got.push(`${e.type.replace("EVENT_TYPE_", "")}${e.instance ? ` ${e.instance.instanceId}` : ""}`);
      };
    });
    const got = () => page.evaluate(() => (window as unknown as { got: string[] }).got);
    await waitFor(async () => (await got()).includes("SYNCED"), 5000, "synced in the browser");
    proxy.cutAll();
    register("w2"); // while the browser is disconnected
    await waitFor(async () => (await got()).length >= 5, 8000, "the replay after the reconnect");
    // Resumed from its last id: the missed event, then SYNCED; no RESET, no second snapshot.
    expect(await got()).toEqual(["RESET", "SNAPSHOT w1", "SYNCED", "REGISTERED w2", "SYNCED"]);
    expect(await page.evaluate(() => (window as unknown as { opens: number }).opens)).toBe(2);
    await page.close();
  }, 30_000);
});

/** Reads `count` events from an SSE URL, then hangs up. */
async function fetchEvents(url: string, count: number, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const controller = new AbortController();
  const answer = await fetch(url, { headers, signal: controller.signal });
  expect(answer.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const reader = answer.body!.getReader();
  let text = "";
  for (;;) {
    const events = parseSse(text);
    if (events.length >= count) {
      controller.abort();
      return events.slice(0, count);
    }
    const { value, done } = await reader.read();
    if (done) return events;
    text += new TextDecoder().decode(value);
  }
}
