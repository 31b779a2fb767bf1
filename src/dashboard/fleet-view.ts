// The dashboard's DOM: one section per service, one row per instance, updated
// in place (keyed by service/id) so that a row being clicked is never replaced.
// Text goes in through textContent only: instance fields come from the network.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Instance } from "../../gen/discovery/v1/discovery_pb";
import { keyOf } from "./fleet-state";
import { percent, relativeTime, shortDuration, statusLook } from "./format";
import { durationToMs } from "../common/duration";

export interface Filter {
  /** Matched against service name, instance id and host, case-insensitively. */
  text: string;
  /** A status name, "critical", or "" for all. */
  status: string;
}

export interface Notice {
  text: string;
  kind: "info" | "ok" | "error";
}

export interface FleetViewOptions {
  container: HTMLElement;
  empty: HTMLElement;
  totals: HTMLElement;
  onCheckNow: (instance: Instance) => void;
}

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<"status" | "id" | "address" | "load" | "heartbeat" | "check" | "latency" | "uptime", HTMLTableCellElement>;
  button: HTMLButtonElement;
  notice: HTMLElement;
  instance: Instance;
}

interface Section {
  el: HTMLElement;
  heading: HTMLElement;
  summary: HTMLElement;
  tbody: HTMLTableSectionElement;
}

const COLUMNS = ["Status", "Instance", "Address", "Load", "Last heartbeat", "Last check", "Latency", "Uptime", ""];

export class FleetView {
  private readonly rows = new Map<string, Row>();
  private readonly sections = new Map<string, Section>();
  private readonly notices = new Map<string, Notice>();

  constructor(private readonly options: FleetViewOptions) {}

  /** Brings the DOM in line with the instances, in name order, filtered. */
  render(instances: Iterable<Instance>, filter: Filter): void {
    const byService = new Map<string, Instance[]>();
    let shown = 0;
    let total = 0;
    const counts = new Map<string, number>();
    for (const instance of instances) {
      total++;
      const status = statusLook(instance.status).name;
      counts.set(status, (counts.get(status) ?? 0) + 1);
      if (instance.criticalLoad) counts.set("critical", (counts.get("critical") ?? 0) + 1);
      if (!matches(instance, filter)) continue;
      shown++;
      let list = byService.get(instance.serviceName);
      if (list === undefined) byService.set(instance.serviceName, (list = []));
      list.push(instance);
    }
    const seen = new Set<string>();
    const now = Date.now();
    const services = [...byService.keys()].sort();
    for (const name of services) {
      const section = this.sectionOf(name);
      const list = byService.get(name)!.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
      section.summary.textContent = summarize(list);
      for (const instance of list) {
        const key = keyOf(instance);
        seen.add(key);
        const row = this.rowOf(key, instance);
        this.fill(row, instance, now);
        if (section.tbody.lastElementChild !== row.tr || row.tr.parentElement !== section.tbody) section.tbody.append(row.tr);
      }
      this.options.container.append(section.el);
    }
    for (const [key, row] of this.rows) {
      if (seen.has(key)) continue;
      row.tr.remove();
      this.rows.delete(key);
    }
    for (const [name, section] of this.sections) {
      if (byService.has(name)) continue;
      section.el.remove();
      this.sections.delete(name);
    }
    this.options.empty.hidden = shown > 0;
    this.options.empty.textContent = total === 0 ? "No instances are registered." : "No instance matches the filter.";
    const parts = [`${total} instance${total === 1 ? "" : "s"}`];
    for (const status of ["healthy", "degraded", "unhealthy", "draining", "unknown", "critical"]) {
      const count = counts.get(status);
      if (count !== undefined) parts.push(`${count} ${status === "critical" ? "at critical load" : status}`);
    }
    this.options.totals.textContent = parts.join(" · ");
  }

  /** Refreshes the relative times (called every second). */
  tick(): void {
    const now = Date.now();
    for (const row of this.rows.values()) this.fillTimes(row, now);
  }

  /** Shows a message beside an instance's "Check now" button until it is replaced. */
  setNotice(key: string, notice: Notice | undefined): void {
    if (notice === undefined) this.notices.delete(key);
    else this.notices.set(key, notice);
    const row = this.rows.get(key);
    if (row !== undefined) showNotice(row, notice);
  }

  setBusy(key: string, busy: boolean): void {
    const row = this.rows.get(key);
    if (row !== undefined) row.button.disabled = busy;
  }

  private sectionOf(name: string): Section {
    let section = this.sections.get(name);
    if (section !== undefined) return section;
    const el = element("section", "service");
    el.dataset.service = name;
    const header = element("div", "service-header");
    const heading = element("h2");
    heading.textContent = name;
    const summary = element("p", "service-summary");
    header.append(heading, summary);
    const table = element("table");
    const head = table.createTHead().insertRow();
    for (const title of COLUMNS) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = title;
      head.append(th);
    }
    const tbody = table.createTBody();
    el.append(header, table);
    section = { el, heading, summary, tbody };
    this.sections.set(name, section);
    return section;
  }

  private rowOf(key: string, instance: Instance): Row {
    let row = this.rows.get(key);
    if (row !== undefined) return row;
    const tr = document.createElement("tr");
    tr.dataset.instance = key;
    const cell = (name: string) => {
      const td = tr.insertCell();
      td.className = `col-${name}`;
      return td;
    };
    const cells = {
      status: cell("status"),
      id: cell("id"),
      address: cell("address"),
      load: cell("load"),
      heartbeat: cell("heartbeat"),
      check: cell("check"),
      latency: cell("latency"),
      uptime: cell("uptime"),
    };
    const actions = cell("actions");
    const button = element("button", "check-now");
    button.type = "button";
    button.textContent = "Check now";
    button.setAttribute("aria-label", `Check ${key} now`);
    const notice = element("span", "notice");
    notice.setAttribute("role", "status");
    actions.append(button, notice);
    row = { tr, cells, button, notice, instance };
    const current = row;
    button.addEventListener("click", () => this.options.onCheckNow(current.instance));
    this.rows.set(key, row);
    showNotice(row, this.notices.get(key));
    return row;
  }

  private fill(row: Row, instance: Instance, now: number): void {
    row.instance = instance;
    const look = statusLook(instance.status);
    row.tr.dataset.status = look.name;
    row.tr.dataset.critical = String(instance.criticalLoad);
    row.tr.className = `instance status-${look.name}${instance.criticalLoad ? " critical" : ""}`;
    replace(row.cells.status, badge(look.label, `badge status-${look.name}`));
    row.cells.id.textContent = instance.instanceId;
    const meta = Object.entries(instance.metadata).map(([k, v]) => `${k}=${v}`);
    row.cells.id.title = meta.join("\n");
    row.cells.address.textContent = `${instance.host}:${instance.port}`;
    replace(row.cells.load, loadBar(instance));
    row.cells.latency.textContent = instance.latency === undefined ? "—" : shortDuration(durationToMs(instance.latency));
    row.cells.uptime.textContent = instance.healthCheck === undefined && instance.lastHealthCheck === undefined ? "—" : percent(instance.uptime);
    this.fillTimes(row, now);
  }

  private fillTimes(row: Row, now: number): void {
    const { instance } = row;
    row.cells.heartbeat.textContent = instance.lastHeartbeat === undefined ? "—" : relativeTime(timestampMs(instance.lastHeartbeat), now);
    row.cells.check.textContent = instance.lastHealthCheck === undefined ? "—" : relativeTime(timestampMs(instance.lastHealthCheck), now);
  }
}

function matches(instance: Instance, filter: Filter): boolean {
  if (filter.status === "critical" ? !instance.criticalLoad : filter.status !== "" && statusLook(instance.status).name !== filter.status) return false;
  const text = filter.text.trim().toLowerCase();
  if (text === "") return true;
  return [instance.serviceName, instance.instanceId, instance.host].some((field) => field.toLowerCase().includes(text));
}

function summarize(list: readonly Instance[]): string {
  const serving = list.filter((i) => statusLook(i.status).name === "healthy" || statusLook(i.status).name === "degraded").length;
  const critical = list.filter((i) => i.criticalLoad).length;
  return `${list.length} instance${list.length === 1 ? "" : "s"} · ${serving} serving${critical > 0 ? ` · ${critical} at critical load` : ""}`;
}

function loadBar(instance: Instance): HTMLElement {
  const wrap = element("div", "load");
  const bar = element("div", "bar");
  bar.setAttribute("role", "meter");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(Math.round(instance.loadPercentage * 100)));
  bar.setAttribute("aria-label", "load");
  const fill = element("div", "fill");
  fill.style.width = percent(Math.min(1, Math.max(0, instance.loadPercentage)));
  bar.append(fill);
  const value = element("span", "value");
  value.textContent = percent(instance.loadPercentage);
  wrap.append(bar, value);
  if (instance.criticalLoad) wrap.append(badge("Critical", "badge critical-badge"));
  return wrap;
}

function showNotice(row: Row, notice: Notice | undefined): void {
  row.notice.textContent = notice?.text ?? "";
  row.notice.className = `notice${notice === undefined ? "" : ` notice-${notice.kind}`}`;
}

function badge(text: string, className: string): HTMLElement {
  const span = element("span", className);
  span.textContent = text;
  return span;
}

function replace(parent: HTMLElement, child: HTMLElement): void {
  parent.replaceChildren(child);
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className !== undefined) el.className = className;
  return el;
}
