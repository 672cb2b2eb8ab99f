/**
 * Puts the dashboard together: one SDK client, the store, and the feeds that fill it. This is
 * the framework-free core; React only reads `store` and calls `actions`.
 */
import { createClient, type WebSocketClass } from "@kaiten/client";
import { createApi } from "./api.ts";
import { watchConnection } from "./connection.ts";
import { groupActions } from "./groups.ts";
import { startMetrics } from "./metrics.ts";
import { produceAction } from "./produce.ts";
import { currentRoute, navigate, watchHistory } from "./route.ts";
import { createDashboardStore, type DashboardStore } from "./state.ts";
import { tailActions } from "./tail.ts";
import { topicActions } from "./topics.ts";

export interface DashboardOptions {
  /** The broker's HTTP address. Default: the page's origin (the Worker serves both) */
  url?: string;
  /** Default: globalThis.WebSocket */
  WebSocket?: WebSocketClass;
}

export type Dashboard = ReturnType<typeof createDashboard>;

export function createDashboard(o: DashboardOptions = {}) {
  const url = o.url ?? location.origin;
  const client = createClient({
    url,
    ...(o.WebSocket ? { WebSocket: o.WebSocket } : {}),
    // An operator watching a restart wants the page back within seconds, not the SDK's 15 s cap.
    maxDelayMs: 4_000,
  });
  const store: DashboardStore = createDashboardStore(url, currentRoute());
  const connection = watchConnection(store, client, () => topics.load());
  const api = createApi(url, (ok) => connection.http(ok));
  const topics = topicActions(store, api);
  const tail = tailActions(store, client);
  const stops = [
    startMetrics(store, client, api, () => topics.loadSoon()),
    watchHistory(store),
    () => connection.stop(),
    () => tail.stop(),
  ];
  topics.load();
  return {
    store,
    actions: {
      navigate: (href: string) => navigate(store, href),
      topics,
      groups: groupActions(store, api),
      tail,
      produce: produceAction(store, client),
    },
    async close() {
      for (const stop of stops) stop();
      await client.close();
    },
  };
}
