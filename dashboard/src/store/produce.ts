/** Sends test records through the SDK (acknowledged once durable), keeping the last few results. */
import type { Client } from "@kaiten/client";
import { type DashboardStore, patch } from "./state.ts";

const KEEP = 8;

export interface Draft {
  topic: string;
  key: string;
  value: unknown;
  headers: Record<string, string>;
}

export function produceAction(store: DashboardStore, client: Client) {
  return async function send(d: Draft): Promise<boolean> {
    patch(store, "produce", { sending: true, error: null });
    try {
      const record = { key: d.key || null, value: d.value, headers: d.headers };
      const [ack] = await client.produce(d.topic, [record]);
      if (!ack) throw new Error("no acknowledgement");
      const result = { topic: d.topic, key: record.key, at: Date.now(), ...ack };
      const results = [result, ...store.getState().produce.results].slice(0, KEEP);
      patch(store, "produce", { sending: false, results });
      return true;
    } catch (error) {
      patch(store, "produce", { sending: false, error: (error as Error).message });
      return false;
    }
  };
}
