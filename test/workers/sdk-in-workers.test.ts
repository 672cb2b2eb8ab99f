/**
 * @kaiten/client inside the Workers runtime (issue 3: "browsers, Node and Workers"): the built
 * package, sockets opened through a fetcher as a service binding opens them
 * (`@kaiten/client/workers`), against the real broker Worker and its Durable Objects.
 */

import { SELF } from "cloudflare:test";
import { createClient, type Rec } from "@kaiten/client";
import { fetchWebSocket } from "@kaiten/client/workers";
import { describe, expect, it } from "vitest";

const binding = { fetch: (input: string, init?: RequestInit) => SELF.fetch(input, init) };

function client() {
  return createClient({
    url: "http://kaiten",
    fetch: ((input: string, init?: RequestInit) => binding.fetch(input, init)) as typeof fetch,
    WebSocket: fetchWebSocket(binding),
  });
}

describe("the SDK in a Worker", () => {
  it("produces with durable acks and reads the records back by subscribing from earliest", async () => {
    const c = client();
    const topic = `workers-${crypto.randomUUID()}`;
    const acks = await c.produce(topic, [{ key: "a", value: { n: 1 } }, { value: { n: 2 } }]);
    expect(acks).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    const got: Rec[] = [];
    for await (const rec of c.subscribe(topic, { from: "earliest" })) {
      got.push(rec);
      if (got.length === 2) break;
    }
    expect(got.map((r) => [r.offset, r.key, r.value])).toEqual([
      [0, "a", { n: 1 }],
      [1, null, { n: 2 }],
    ]);
    await c.close();
    expect(await c.closed).toBeUndefined();
  });

  it("delivers records produced after it subscribed, live", async () => {
    const c = client();
    const topic = `workers-live-${crypto.randomUUID()}`;
    const sub = c.subscribe(topic, { from: "latest" });
    await sub.ready();
    await c.produce(topic, [{ value: "x" }, { value: "y" }]);
    const got: unknown[] = [];
    for await (const rec of sub) {
      got.push(rec.value);
      if (got.length === 2) break;
    }
    expect(got).toEqual([new TextEncoder().encode("x"), new TextEncoder().encode("y")]);
    await c.close();
  });
});
