// The dashboard's entry point (bundled by esbuild into dist/dashboard/app.js):
// wires the Watch stream, the view, the filters and the "Check now" buttons.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { DiscoveryService, ProbeOutcome, type Instance } from "../../gen/discovery/v1/discovery_pb";
import { durationToMs } from "../common/duration";
import { FleetState, keyOf } from "./fleet-state";
import { FleetView, type Filter } from "./fleet-view";
import { shortDuration } from "./format";
import { runLiveWatch, type Connection } from "./live-watch";

/** How often relative times ("12 s ago") are refreshed. */
const TICK_MS = 1_000;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/**
 * A token for servers with auth on, from the page's address: `/#token=…`. The
 * fragment is never sent to the server, so it stays out of access logs.
 */
function bearerInterceptors(): Interceptor[] {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match === null) return [];
  const header = `Bearer ${decodeURIComponent(match[1]!)}`;
  return [
    (next) => (request) => {
      request.header.set("authorization", header);
      return next(request);
    },
  ];
}

function start(): void {
  const client = createClient(DiscoveryService, createConnectTransport({ baseUrl: window.location.origin, interceptors: bearerInterceptors() }));
  const state = new FleetState();
  const connection = byId("connection");
  const filterText = byId<HTMLInputElement>("filter");
  const filterStatus = byId<HTMLSelectElement>("status-filter");
  const filter = (): Filter => ({ text: filterText.value, status: filterStatus.value });

  const view = new FleetView({
    container: byId("services"),
    empty: byId("empty"),
    totals: byId("totals"),
    onCheckNow: (instance) => void checkNow(instance),
  });

  // Many events in one burst (a snapshot) render once, on the next frame.
  let scheduled = false;
  const render = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      view.render(state.instances.values(), filter());
    });
  };
  filterText.addEventListener("input", render);
  filterStatus.addEventListener("change", render);

  let retry: Extract<Connection, { t: "disconnected" }> | undefined;
  const showConnection = (next: Connection) => {
    connection.dataset.state = next.t;
    retry = next.t === "disconnected" ? next : undefined;
    connection.title = next.t === "disconnected" ? next.error : "";
    connection.textContent = connectionText(next);
  };
  setInterval(() => {
    view.tick();
    if (retry !== undefined) connection.textContent = connectionText(retry);
  }, TICK_MS);

  async function checkNow(instance: Instance): Promise<void> {
    const key = keyOf(instance);
    view.setBusy(key, true);
    view.setNotice(key, { text: "Checking…", kind: "info" });
    try {
      const answer = await client.checkNow({ serviceName: instance.serviceName, instanceId: instance.instanceId });
      const result = answer.result;
      const latency = result?.latency === undefined ? "" : ` in ${shortDuration(durationToMs(result.latency))}`;
      const outcome = result?.outcome ?? ProbeOutcome.UNSPECIFIED;
      const text = outcome === ProbeOutcome.PASS ? `Passed${latency}` : outcome === ProbeOutcome.DEGRADED ? `Degraded${latency}` : `Failed: ${result?.error || "no answer"}`;
      view.setNotice(key, { text, kind: outcome === ProbeOutcome.FAIL ? "error" : "ok" });
    } catch (error) {
      view.setNotice(key, { text: checkNowError(error), kind: "error" });
    } finally {
      view.setBusy(key, false);
    }
  }

  void runLiveWatch({ client, state, onChange: render, onConnection: showConnection, signal: new AbortController().signal });
  render();
}

function connectionText(connection: Connection): string {
  switch (connection.t) {
    case "connecting":
      return "Connecting…";
    case "live":
      return "Live";
    case "disconnected": {
      const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
      return seconds > 0 ? `Disconnected, reconnecting in ${seconds} s` : "Disconnected, reconnecting…";
    }
  }
}

/** A clear sentence for each way CheckNow can be refused. */
export function checkNowError(error: unknown): string {
  const e = ConnectError.from(error);
  switch (e.code) {
    case Code.Unimplemented:
      return "Health checks are not available on this server (CheckNow is unimplemented).";
    case Code.NotFound:
    case Code.FailedPrecondition:
      return `Nothing to check: ${e.rawMessage || "the instance has no health check or is gone"}.`;
    case Code.Unavailable:
      return "The registry cannot be reached.";
    default:
      return `Check failed: ${e.rawMessage}`;
  }
}

start();
