/**
 * Self-hosted Kaiten: one port serving what the Worker serves on Cloudflare, from the same
 * core: the HTTP API (core/http, `handleHttp`) through the uWebSockets.js ↔ WHATWG adapter
 * (http.ts), the WebSocket protocol v1 (sockets.ts), and the dashboard's files at `/`
 * (assets.ts), over the Node port's in-process owners (port.ts).
 */

import uws from "uWebSockets.js";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { KaitenError } from "@kaiten/protocol";
import type { AuthVars } from "../core/auth/settings.ts";
import { groupLag } from "../core/groups/lag.ts";
import { type HttpHooks, type HttpHost, handleHttp } from "../core/http/api.ts";
import { errorResponse } from "../core/http/json.ts";
import { brokerSettings, type SettingVars } from "../core/settings.ts";
import { Assets, findDashboard } from "./assets.ts";
import { asWebRequest, HttpAdapter } from "./http.ts";
import { NodePort } from "./port.ts";
import { Sockets } from "./sockets.ts";
import type { Synchronous } from "./sqlite.ts";

export { SOCKET_BUFFER_BYTES } from "./sockets.ts";

const require = createRequire(import.meta.url);

/** True when uWebSockets.js runs on its native addon for Node 20 (ABI 115). */
export function uwsNativeLoaded(): boolean {
  return Object.keys(require.cache).some((k) => /uws_[a-z0-9]+_[a-z0-9]+_115\.node$/.test(k));
}

export interface ServerOptions {
  /** Default: 8080. 0 picks a free port. */
  port?: number;
  /** Default: "127.0.0.1". */
  host?: string;
  /** Where topics, logs and groups are kept. */
  dataDir: string;
  /**
   * Settings, as the environment variables of the same names as wrangler.toml's [vars] and
   * secrets. As on Cloudflare, auth is on (KAITEN_AUTH = "jwt") unless KAITEN_AUTH is "off".
   */
  vars?: SettingVars & AuthVars;
  /** Default: "FULL" (an ack means durable). Only benchmarks of the setting change it. */
  synchronous?: Synchronous;
  /** Partitions kept open at most, idle ones closed past it (partitions.ts). Default: 1,000 */
  maxOpenPartitions?: number;
  /**
   * The built dashboard served at `/`; null serves none. Default: the repository's
   * dashboard/dist, found upwards from this file (findDashboard).
   */
  assetsDir?: string | null;
}

export interface RunningServer {
  port: number;
  url: string;
  /**
   * Stops politely: finishes SSE answers and answers long-polls, finishes commits in
   * progress, closes every socket with going-away (1001), closes files.
   */
  stop(): Promise<void>;
}

/** Node's clock, randomness and log, as the core's HTTP API takes them. */
const HOOKS: HttpHooks = {
  now: () => Date.now(),
  random: () => Math.random(),
  randomBytes: (n) => new Uint8Array(randomBytes(n)),
  log: (message, error) => console.error(message, error),
};

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!uwsNativeLoaded()) {
    throw new Error(
      "uWebSockets.js did not load its native addon (uws_*_115.node): refusing its slow JavaScript fallback. Kaiten's Node host needs Node 20.",
    );
  }
  const max = options.maxOpenPartitions;
  if (max !== undefined && !(Number.isSafeInteger(max) && max > 0)) {
    throw new Error(`the most open partitions must be a whole number above 0, not ${max}`);
  }
  const broker = new NodePort({
    dataDir: options.dataDir,
    ...(max !== undefined ? { maxOpenPartitions: max } : {}),
    settings: brokerSettings(options.vars ?? {}),
    synchronous: options.synchronous ?? "FULL",
    groupLag: (port) => (d) => groupLag(port, d),
  });
  const app = uws.App();
  const sockets = new Sockets(broker, HOOKS);
  sockets.serve(app);
  const http = httpAdapter(broker, options.assetsDir);
  app.any("/*", http.serve);

  const host = options.host ?? "127.0.0.1";
  const listenSocket = await new Promise<uws.us_listen_socket>((resolve, reject) => {
    app.listen(host, options.port ?? 8080, (socket) =>
      socket ? resolve(socket) : reject(new Error(`cannot listen on ${host}:${options.port}`)),
    );
  });
  const port = uws.us_socket_local_port(listenSocket);

  let stopping: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    uws.us_listen_socket_close(listenSocket);
    // SSE answers end with their last event complete; long-polls answer; then they close.
    const answered = http.finishAll();
    // Long-polls waiting for a commit answer now, with what the log holds, not after the grace.
    broker.partitions.wakeReaders();
    // Commit what is pending; its acks are sent by promise jobs, which run before the timer.
    broker.partitions.flushAll();
    await new Promise((resolve) => setTimeout(resolve, 10));
    sockets.closeAll();
    await answered;
    broker.close();
  };
  return {
    port,
    url: `http://${host}:${port}`,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

/**
 * HTTP as wrangler.toml routes it on Cloudflare (`run_worker_first`): /v1 and below are the
 * API, everything else the dashboard's files.
 */
function httpAdapter(broker: NodePort, assetsDir: string | null | undefined): HttpAdapter {
  const dir = assetsDir === undefined ? findDashboard() : assetsDir;
  const assets = dir ? new Assets(dir) : null;
  const host: HttpHost = {
    ...HOOKS,
    // A WebSocket upgrade never gets here (sockets.ts takes it first): this is a plain GET.
    upgrade: async () =>
      errorResponse(new KaitenError("INVALID_REQUEST", "expected a WebSocket upgrade"), 426),
  };
  const api = async (request: Request) =>
    (await handleHttp(asWebRequest(request), broker, host)) as unknown as Response;
  return new HttpAdapter(
    (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/v1" || path.startsWith("/v1/") || !assets) return api(request);
      return assets.serve(request);
    },
    { refusalHeaders: { "access-control-allow-origin": "*" } },
  );
}
