/**
 * The built bundle (dist/index.js, minified with internal names renamed) against a real
 * broker on Node, through a dropped connection: what users run, not only the sources.
 */
import { expect, it } from "vitest";
import WebSocket from "ws";
import type * as Sdk from "../src/index.ts";
import { ChaosProxy } from "./support/chaos-proxy.ts";
import { topicName, until, useBroker } from "./support/setup.ts";

const broker = useBroker();

it("produces, subscribes and resumes after a cut connection with the built bundle", async () => {
  // A path in a variable: the typechecker must not look for the bundle, which may not be built yet.
  const bundle = "../dist/index.js";
  const { createClient } = (await import(bundle)) as typeof Sdk;
  const proxy = await ChaosProxy.start(broker().port);
  const c = createClient({ url: proxy.url, WebSocket, minDelayMs: 20 });
  try {
    const topic = topicName("dist");
    const got: number[] = [];
    const sub = c.subscribe<number>(topic, { from: "earliest" }, (r) => {
      got.push(r.value);
    });
    await sub.ready();
    expect(await c.produce(topic, [{ key: "a", value: 0 }, { value: 1 }])).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    await until(() => got.length === 2);
    // Heard as events: a reconnect can finish between two polls of c.status.
    const states: string[] = [];
    c.on("status", (s) => states.push(s.state));
    proxy.cutAll();
    await until(() => states.includes("reconnecting"));
    expect(await c.produce(topic, [{ value: 2 }])).toEqual([{ partition: 0, offset: 2 }]);
    await until(() => got.length === 3);
    expect(got).toEqual([0, 1, 2]);
    expect(sub.positions()[0]?.offset).toBe(3);
  } finally {
    await c.close();
    await proxy.close();
  }
});

it("moves to the HTTP transport (dist/sse.js, loaded on demand) when upgrades are refused, with the built bundle", async () => {
  const bundle = "../dist/index.js";
  const { createClient } = (await import(bundle)) as typeof Sdk;
  const proxy = await ChaosProxy.start(broker().port);
  proxy.refuseUpgrades = true;
  const c = createClient({ url: proxy.url, WebSocket, minDelayMs: 20, maxDelayMs: 200 });
  try {
    const topic = topicName("dist-sse");
    const got: Array<[number, unknown, string | null]> = [];
    const sub = c.subscribe(topic, { from: "earliest" }, (r) => {
      got.push([r.offset, r.value, r.key]);
    });
    await sub.ready();
    expect(await c.produce(topic, [{ key: "a", value: { n: 0 } }, { value: 1 }])).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    await until(() => got.length === 2);
    // A lost SSE stream and produce connection: back on HTTP at the next offset, the retried batch stored once.
    proxy.cutAll();
    expect(await c.produce(topic, [{ value: 2 }])).toEqual([{ partition: 0, offset: 2 }]);
    await until(() => got.length === 3);
    expect(got).toEqual([
      [0, { n: 0 }, "a"],
      [1, 1, null],
      [2, 2, null],
    ]);
    expect(sub.positions()[0]?.offset).toBe(3);
    expect(proxy.refused).toBeGreaterThanOrEqual(2);
    expect(proxy.seen.sse).toBeGreaterThanOrEqual(1);
  } finally {
    await c.close();
    await proxy.close();
  }
});
