/**
 * The HTTP transport is a chunk of its own (dist/sse.js) that the main entry imports the first
 * time it may need it; in a browser page it comes from the broker's origin. When that import
 * fails (the broker down at that moment), the client must neither keep the failure for its
 * life nor leave the rejection unhandled: it loads the chunk again at the next loss ("auto"),
 * or in a moment when every socket must be HTTP ("sse"), and then works over HTTP.
 * Runs the built bundle from a copy of dist/ whose sse.js is missing until the test adds it.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeEach, expect, it } from "vitest";
import WebSocket from "ws";
import type * as Sdk from "../src/index.ts";
import { ChaosProxy } from "./support/chaos-proxy.ts";
import { topicName, until, useBroker } from "./support/setup.ts";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const broker = useBroker();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The built main entry from a folder of its own, without sse.js; `addChunk` puts it there. */
async function bundleWithoutChunk() {
  const dir = mkdtempSync(join(tmpdir(), "kaiten-chunk-"));
  dirs.push(dir);
  for (const f of ["index.js", "renew.js", "keys.js"]) copyFileSync(join(DIST, f), join(dir, f));
  const sdk = (await import(join(dir, "index.js"))) as typeof Sdk;
  return { sdk, addChunk: () => copyFileSync(join(DIST, "sse.js"), join(dir, "sse.js")) };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
});

it("loads sse.js again at a later loss when it could not be loaded, then moves to HTTP ('auto')", async () => {
  const { sdk, addChunk } = await bundleWithoutChunk();
  const proxy = await ChaosProxy.start(broker().port);
  proxy.refuseUpgrades = true;
  const c = sdk.createClient({ url: proxy.url, WebSocket, minDelayMs: 20, maxDelayMs: 100 });
  try {
    const topic = topicName("chunk-auto");
    const got: unknown[] = [];
    c.subscribe(topic, { from: "earliest" }, (r) => {
      got.push(r.value);
    });
    // Sockets refused while the chunk is missing: each loss tries to load it, and fails.
    await until(() => proxy.refused >= 4, 10_000, "refused upgrades");
    addChunk();
    expect(await c.produce(topic, [{ value: 0 }, { value: 1 }])).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    await until(() => got.length === 2, 10_000, "records over SSE");
    expect(got).toEqual([0, 1]);
    expect(proxy.seen.sse).toBeGreaterThanOrEqual(1);
    expect(unhandled).toEqual([]);
  } finally {
    await c.close();
    await proxy.close();
  }
});

it("keeps loading sse.js while it cannot, and lookups wait for it ('sse')", async () => {
  const { sdk, addChunk } = await bundleWithoutChunk();
  const proxy = await ChaosProxy.start(broker().port);
  const c = sdk.createClient({ url: proxy.url, WebSocket, transport: "sse", minDelayMs: 20 });
  try {
    const topic = topicName("chunk-sse");
    const got: unknown[] = [];
    const sub = c.subscribe(topic, { from: "earliest" }, (r) => {
      got.push(r.value);
    });
    let ended = false;
    void sub.closed.then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(ended).toBe(false);
    addChunk();
    await sub.ready();
    expect(await c.produce(topic, [{ value: "a" }])).toEqual([{ partition: 0, offset: 0 }]);
    await until(() => got.length === 1, 10_000, "a record over SSE");
    // Never over WebSocket: "sse" was asked for.
    expect(proxy.seen.upgrades).toBe(0);
    expect(proxy.seen.sse).toBeGreaterThanOrEqual(1);
    expect(unhandled).toEqual([]);
  } finally {
    await c.close();
    await proxy.close();
  }
});
