// Scenario 1, the unary limit ladder: a bare node:http2 responder (the ceiling),
// a no-op grpc-js handler behind our one-port front (the baseline), and our real
// Heartbeat, Register and ListHealthy of a 100-instance service, all under the
// same h2load load. Each server runs alone on core 0, h2load on core 1.
import { DiscoveryService, HeartbeatRequestSchema, ListHealthyRequestSchema, RegisterRequestSchema, RegisterResponseSchema } from "../../gen/discovery/v1/discovery_pb";
import { frameMessage } from "../lib/grpc-frame";
import { h2load, verifyGrpcOk } from "../lib/h2load";
import { DIST, startNode, type Proc } from "../lib/processes";
import { median, round } from "../lib/stats";
import { RawClient } from "../lib/unary";
import type { Scenario } from "../lib/scenario";

const M = DiscoveryService.method;
const path = (name: string) => `/discovery.v1.DiscoveryService/${name}`;

const REGISTER = { serviceName: "bench", instanceId: "hb-1", host: "10.0.0.1", port: 8080, ttl: { seconds: 3600n }, loadPercentage: 0.5 };
export const bodies = {
  Heartbeat: frameMessage(HeartbeatRequestSchema, { serviceName: "bench", instanceId: "hb-1", loadPercentage: 0.5 }),
  Register: frameMessage(RegisterRequestSchema, REGISTER),
  ListHealthy: frameMessage(ListHealthyRequestSchema, { serviceName: "bench-list" }),
};

interface Target {
  name: string;
  start: () => Promise<Proc>;
  method: keyof typeof bodies;
  prepare?: (port: number) => Promise<void>;
}

/** Registers the Heartbeat target and a 100-instance service to list. */
export async function prepareRegistry(port: number): Promise<void> {
  const client = new RawClient(port);
  try {
    await client.call(path("Register"), M.register.input, RegisterResponseSchema, REGISTER);
    for (let i = 0; i < 100; i++) {
      await client.call(path("Register"), M.register.input, RegisterResponseSchema, {
        serviceName: "bench-list",
        instanceId: `list-${i}`,
        host: `10.1.0.${i}`,
        port: 8080,
        metadata: { zone: `z${i % 3}`, version: "1.4.2" },
        ttl: { seconds: 3600n },
        loadPercentage: (i % 10) / 10,
      });
    }
  } finally {
    client.close();
  }
}

const server = () => startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn" });

export const unaryLadder: Scenario = {
  name: "unary-ladder",
  description: "calls/s under h2load (16 connections x 32 streams), server on one core",
  async run({ runs, seconds }) {
    const targets: Target[] = [
      { name: "bare node:http2 responder", start: () => startNode(`${DIST}/bench/servers/bare-h2.js`, {}), method: "Heartbeat" },
      { name: "no-op handler (our stack)", start: () => startNode(`${DIST}/bench/servers/noop-server.js`, {}), method: "Heartbeat" },
      { name: "Heartbeat", start: server, method: "Heartbeat", prepare: prepareRegistry },
      { name: "Register (upsert)", start: server, method: "Register", prepare: prepareRegistry },
      { name: "ListHealthy (100 instances)", start: server, method: "ListHealthy", prepare: prepareRegistry },
    ];
    // Rounds, not blocks: each round measures every target once, so the shared
    // machine's drift falls on all of them alike and the ratios stay fair.
    const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let i = 0; i < runs; i++) {
      for (const target of targets) {
        const proc = await target.start();
        try {
          await target.prepare?.(proc.port);
          await verifyGrpcOk(proc.port, path(target.method), bodies[target.method]);
          const result = await h2load({ port: proc.port, path: path(target.method), body: bodies[target.method], seconds });
          if (result.failed > 0) throw new Error(`${target.name}: ${result.failed} requests failed`);
          samples.get(target.name)!.push(result.requestsPerSecond);
        } finally {
          await proc.stop();
        }
      }
    }
    const rows: Record<string, unknown>[] = [];
    const medians = new Map<string, number>();
    for (const target of targets) {
      const values = samples.get(target.name)!;
      medians.set(target.name, median(values));
      rows.push({ target: target.name, callsPerSecond: round(median(values), 0), samples: values.map((s) => round(s, 0)) });
    }
    const noop = medians.get("no-op handler (our stack)")!;
    const bare = medians.get("bare node:http2 responder")!;
    for (const row of rows) {
      const value = medians.get(row.target as string)!;
      row.vsNoop = round(value / noop, 3);
      row.vsBare = round(value / bare, 3);
    }
    const heartbeat = medians.get("Heartbeat")! / noop;
    const list = medians.get("ListHealthy (100 instances)")! / noop;
    return {
      rows,
      targets: [
        { name: "Heartbeat / no-op >= 0.85", value: round(heartbeat, 3), met: heartbeat >= 0.85 },
        { name: "ListHealthy(100) / no-op >= 0.8", value: round(list, 3), met: list >= 0.8 },
      ],
    };
  },
};
