// `discovery serve` with the sinks configured from the environment: a real
// nats-server and a real webhook receiver hear what a REST client changes.
import { connect } from "@nats-io/transport-node";
import { runCli, spawnCli } from "../helpers/cli-run";
import { startNatsServer, type PeerProcess } from "../helpers/real-peers";
import { waitFor } from "../helpers/wait-for";
import { Receiver } from "../helpers/webhook-receiver";

/** Each test starts CLI processes: seconds each on a loaded 2-core machine. */
const CLI_TEST_MS = 60_000;
const START_MS = 15_000;

describe("discovery serve with NATS and webhooks", () => {
  let nats: PeerProcess;
  let receiver: Receiver;
  beforeAll(async () => {
    nats = await startNatsServer();
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await nats.stop();
  });

  test("a critical load reported over REST reaches NATS (event and summaries) and the webhook; /metrics counts them", async () => {
    const nc = await connect({ servers: `127.0.0.1:${nats.port}` });
    const subjects: string[] = [];
    nc.subscribe("fleet.>", { callback: (_e, msg) => void subjects.push(msg.subject) });
    await nc.flush();
    const server = spawnCli(["serve", "--port", "0", "--host", "127.0.0.1", "--nats-subject-prefix", "fleet"], {
      LOG_LEVEL: "info",
      NATS_URL: `127.0.0.1:${nats.port}`,
      NATS_SUMMARY_INTERVAL_SECONDS: "0.1",
      DISCOVERY_WEBHOOK_URLS: receiver.url.href,
      DISCOVERY_WEBHOOK_SECRET: "s",
    });
    try {
      const { port } = JSON.parse(await server.waitForLine(/discovery server listening/, START_MS)) as { port: number };
      await server.waitForLine(/NATS sink connected/, START_MS);
      const post = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body: JSON.stringify(body) });
      expect((await post("/v1/discovery/register", { service_name: "orders", instance_id: "o-1", host: "10.0.0.1", port: 80 })).status).toBe(200);
      expect((await post("/v1/discovery/heartbeat", { service_name: "orders", instance_id: "o-1", load_percentage: 0.97 })).status).toBe(200);

      await waitFor(() => subjects.filter((s) => s === "fleet.events.orders").length === 2, 5000, "two events on NATS");
      await waitFor(() => subjects.includes("fleet.health.orders") && subjects.includes("fleet.health.global"), 5000, "summaries on NATS");
      await waitFor(() => receiver.hooks.length === 1, 5000, "the LOAD_CRITICAL webhook");
      expect(receiver.hooks[0]!.headers["x-discovery-event"]).toBe("LOAD_CRITICAL");
      expect(receiver.hooks[0]!.headers["x-discovery-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);

      // Counted once the receiver's answer is read, just after it recorded the request.
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const metrics = await waitFor(async () => {
        const text = await scrape();
        return /discovery_sink_messages_total\{sink="webhook",result="delivered"\} 1/.test(text) && text;
      }, 5000, "the delivery counted");
      expect(metrics).toMatch(/discovery_sink_messages_total\{sink="nats",result="delivered"\} [1-9]/);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill("SIGKILL");
      await nc.close();
    }
  }, CLI_TEST_MS);

  test("bad sink settings stop it with exit 2 naming the variable", async () => {
    expect(await runCli(["serve", "--port", "0"], { DISCOVERY_WEBHOOK_URLS: "ftp://x" })).toMatchObject({ code: 2, stderr: expect.stringContaining("DISCOVERY_WEBHOOK_URLS entry \"ftp://x\" must be http or https") });
    expect(await runCli(["serve", "--port", "0"], { DISCOVERY_WEBHOOK_URLS: "http://x", DISCOVERY_WEBHOOK_EVENTS: "LOAD_CRITICAL,BOGUS" })).toMatchObject({ code: 2, stderr: expect.stringContaining("DISCOVERY_WEBHOOK_EVENTS entry \"BOGUS\"") });
    expect(await runCli(["serve", "--port", "0", "--nats-url", "127.0.0.1:1", "--nats-subject-prefix", "a..b"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--nats-subject-prefix must be") });
  }, CLI_TEST_MS);
});
