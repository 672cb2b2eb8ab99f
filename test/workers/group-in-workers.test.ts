/**
 * Consumer groups from inside the Workers runtime (docs/PROTOCOL.md §16): a Worker that holds
 * no socket (a Cron Trigger, a Queue consumer) consumes as a member over HTTP, through its
 * service binding: join, fetch, commit, leave; and `@kaiten/client/group` runs in a Worker.
 */
import { SELF } from "cloudflare:test";
import { createClient } from "@kaiten/client";
import { joinGroup } from "@kaiten/client/group";
import { fetchWebSocket } from "@kaiten/client/workers";
import { describe, expect, it } from "vitest";

const binding = { fetch: (input: string, init?: RequestInit) => SELF.fetch(input, init) };
const api = async <T>(path: string, body?: unknown, method = "POST"): Promise<T> => {
  const res = await SELF.fetch(`http://kaiten${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, path).toBeLessThan(300);
  return (await res.json()) as T;
};

interface Fetched {
  generation: number;
  memberId: string;
  records: Array<{ value: number }>;
  positions: Array<{ topic: string; partition: number; offset: number }>;
}

describe("consumer groups in a Worker", () => {
  it("consumes over HTTP with no socket: a second run starts after the first run's commit", async () => {
    const topic = `wg-${crypto.randomUUID()}`;
    await api("/v1/topics", { name: topic, partitions: 2 });
    await api(`/v1/topics/${topic}/records`, {
      records: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i })),
    });
    const run = async () => {
      const joined = await api<{ memberId: string }>(`/v1/groups/cron/members`, {
        topics: [topic],
      });
      const base = `/v1/groups/cron/members/${joined.memberId}`;
      const f = await api<Fetched>(`${base}/fetch`, { maxRecords: 1000 });
      await api(`${base}/commit`, { generation: f.generation, offsets: f.positions });
      await api(base, undefined, "DELETE");
      return f.records.map((r) => r.value).sort((a, b) => a - b);
    };
    expect(await run()).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await api(`/v1/topics/${topic}/records`, { records: [{ key: "k1", value: 30 }] });
    expect(await run()).toEqual([30]);
  });

  it("runs @kaiten/client/group inside workerd", async () => {
    const topic = `wg-sdk-${crypto.randomUUID()}`;
    const client = createClient({
      url: "http://kaiten",
      fetch: ((input: string, init?: RequestInit) => binding.fetch(input, init)) as typeof fetch,
      WebSocket: fetchWebSocket(binding),
    });
    await client.produce(topic, [{ value: 1 }, { value: 2 }]);
    const member = joinGroup<number>(client, { group: "in-worker", topic, from: "earliest" });
    const got: number[] = [];
    for await (const rec of member) {
      got.push(rec.value);
      if (got.length === 2) break;
    }
    expect(got).toEqual([1, 2]);
    await client.close();
  });
});
