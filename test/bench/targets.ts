/**
 * What the bench measures: Kaiten on a real `wrangler dev` (test/lib/broker.ts), Kaiten's
 * Node host (edge/dist-node/kaiten.mjs, the `npm run serve` build, through the same Broker
 * helper) and the relays (relay-ws.ts, relay-uws.ts, and relay-uws.ts syncing a file per
 * turn as `uws-fsync` or committing to SQLite and syncing as `uws-sqlite`), each in processes
 * of their own.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TopicStore } from "../../edge/src/core/topic-store.ts";
import { openSqlite } from "../../edge/src/node/sqlite.ts";
import { Broker, freePort } from "../lib/broker.ts";
import { listeningPorts, rssBytes, workerdPids } from "../lib/proc.ts";
import { forkChild } from "./children.ts";
import type { RelayReady } from "./relay-process.ts";

/**
 * "kaiten-base" and "node-base": wrangler dev and the Node host from another checkout
 * (BENCH_BASE_ROOT), to compare commits in one session.
 */
export type TargetName =
  | "kaiten"
  | "kaiten-base"
  | "node"
  | "node-base"
  | "ws"
  | "uws"
  | "uws-fsync"
  | "uws-sqlite";

/** Storage counters of a Kaiten partition (GET /v1/topics/{t}, docs/PROTOCOL.md §11.1). */
export interface PartitionUsage {
  highWatermark: number;
  commits: number;
  rowsWritten: number;
}

export interface Target {
  name: TargetName;
  url: string;
  /** Whether it stores records (only Kaiten): catch-up and resume apply. */
  stores: boolean;
  /** The process whose memory counts as the server's. */
  serverPid(): number;
  /** Another process every connection goes through (wrangler dev's proxy), if any. */
  proxyPid(): number | null;
  /** wrangler dev's inspector port, when started with one (for CPU profiles). */
  inspectorPort: number | null;
  /** Creates a topic with this many partitions (a relay needs none). */
  createTopic(name: string, partitions: number): Promise<void>;
  /** Storage counters per partition, where the target has them. */
  usage(topic: string): Promise<PartitionUsage[] | null>;
  stop(): Promise<void>;
}

/**
 * The runtime workerd's own HTTP port, behind wrangler dev's proxy: the port among those it
 * listens on that answers the API (the others are its inspector and internal services).
 */
async function runtimePort(pid: number): Promise<number> {
  for (const port of listeningPorts(pid)) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/topics`, {
        signal: AbortSignal.timeout(2_000),
      });
      await r.arrayBuffer();
      if (r.status === 200) return port;
    } catch {
      // Not this one.
    }
  }
  throw new Error("the runtime workerd answers on none of its ports");
}

/**
 * Kaiten on wrangler dev. With `direct`, clients connect to the runtime workerd itself,
 * skipping wrangler dev's proxy process (an experiment: the proxy is not there in production).
 */
export async function startKaiten(
  args: string[] = [],
  o: { direct?: boolean; inspector?: boolean; root?: string; name?: TargetName } = {},
): Promise<Target> {
  const inspectorPort = o.inspector ? await freePort() : null;
  const inspect = inspectorPort ? ["--inspector-port", String(inspectorPort)] : [];
  const broker = await Broker.start({
    args: [...args, ...inspect],
    ...(o.root ? { root: o.root } : {}),
  });
  const direct = o.direct ?? false;
  const pids = () => workerdPids(broker.processGroup, broker.port);
  const url = direct ? `http://127.0.0.1:${await runtimePort(pids().runtime)}` : broker.url;
  return {
    name: o.name ?? "kaiten",
    url,
    stores: true,
    inspectorPort,
    serverPid: () => pids().runtime,
    proxyPid: () => (direct ? null : pids().proxy),
    async createTopic(name, partitions) {
      const response = await fetch(`${url}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, partitions, retentionMs: -1, retentionBytes: -1 }),
      });
      if (response.status !== 201) {
        throw new Error(`creating ${name}: ${response.status} ${await response.text()}`);
      }
    },
    async usage(topic) {
      const response = await fetch(`${url}/v1/topics/${topic}`);
      const body = (await response.json()) as { partitions: PartitionUsage[] };
      return body.partitions;
    },
    stop: () => broker.dispose(),
  };
}

/**
 * Kaiten's Node host on uWebSockets.js and SQLite with `synchronous = FULL` (an ack means
 * durable), auth off as under `npm start`. Topics are made with POST /v1/topics. A `node-base`
 * checkout from before the host served the HTTP API answers that with 404: its topic is then
 * written into its registry (registry.sqlite, WAL: a second connection is safe; such a host
 * reads the table at every connect), the row POST would write, and its storage counters are
 * unknown.
 */
export async function startNodeHost(o: { root?: string; name?: TargetName } = {}): Promise<Target> {
  // With `root`, that checkout's edge/dist-node/kaiten.mjs (built there with `npm run build`).
  const broker = await Broker.start({ host: "node", ...(o.root ? { root: o.root } : {}) });
  const url = broker.url;
  let registry: TopicStore | null = null;
  let close = () => {};
  return {
    name: o.name ?? "node",
    url,
    stores: true,
    inspectorPort: null,
    // The Node host runs as the leader of its own process group.
    serverPid: () => broker.processGroup,
    proxyPid: () => null,
    async createTopic(name, partitions) {
      const config = { partitions, retentionMs: -1, retentionBytes: -1 };
      const response = await fetch(`${url}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, ...config }),
      });
      await response.arrayBuffer();
      if (response.status === 201) return;
      if (response.status !== 404) throw new Error(`creating ${name}: ${response.status}`);
      if (!registry) {
        const db = openSqlite(join(broker.stateDir, "registry.sqlite"));
        registry = new TopicStore(db, Date.now);
        close = () => db.close();
      }
      const made = registry.create(name, { ...config, maxRecordBytes: 1_000_000 }, null);
      if (made.status !== "created") throw new Error(`creating ${name}: ${made.status}`);
    },
    async usage(topic) {
      const response = await fetch(`${url}/v1/topics/${topic}`);
      if (response.status !== 200) {
        await response.arrayBuffer();
        return null;
      }
      const body = (await response.json()) as { partitions: PartitionUsage[] };
      return body.partitions;
    },
    async stop() {
      close();
      await broker.dispose();
    },
  };
}

export type RelayName = "ws" | "uws" | "uws-fsync" | "uws-sqlite";

/**
 * A relay in a process of its own. `uws-fsync` and `uws-sqlite` are the uWS relay with a
 * RelayLog (relay-log.ts) in a new folder beside the Node host's data folders (the same
 * disk), removed when it stops.
 */
export async function startRelay(name: RelayName): Promise<Target> {
  const durable = name === "uws-fsync" || name === "uws-sqlite";
  const logDir = durable ? mkdtempSync(join(tmpdir(), `kaiten-bench-${name}-`)) : "";
  const child: ChildProcess = forkChild(
    name === "ws" ? "relay-ws.mjs" : "relay-uws.mjs",
    durable ? { RELAY_LOG_DIR: logDir, RELAY_LOG: name === "uws-sqlite" ? "sqlite" : "file" } : {},
  );
  const ready = await new Promise<RelayReady>((resolve, reject) => {
    child.once("message", (m: RelayReady) => resolve(m));
    child.once("exit", (code) => reject(new Error(`relay ${name} exited (${code})`)));
  });
  if (name !== "ws" && !ready.native) {
    throw new Error("uWebSockets.js fell back to its JavaScript shim; the baseline would be wrong");
  }
  return {
    name,
    url: `http://127.0.0.1:${ready.port}`,
    stores: false,
    inspectorPort: null,
    serverPid: () => child.pid ?? 0,
    proxyPid: () => null,
    createTopic: async () => {},
    usage: async () => null,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** RSS of the server and of the proxy in front of it (0 without one), in bytes. */
export function serverRss(target: Target): { server: number; proxy: number } {
  const proxy = target.proxyPid();
  return { server: rssBytes(target.serverPid()), proxy: proxy ? rssBytes(proxy) : 0 };
}
