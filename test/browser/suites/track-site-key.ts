/**
 * The tracker with a site key in Chromium, against a broker with auth on (PROTOCOL.md §15.5):
 * on a page of an origin the key names it delivers; the same snippet on another origin is
 * refused, stops sending and keeps its events in the outbox; over the key's rate it waits
 * out Retry-After and loses nothing.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { SdkHost } from "../../../client-sdk/test/support/hosts.ts";
import { jwtArgs, mint, testKeys } from "../../lib/auth.ts";
import { type Harness, page, useHarness } from "../harness.ts";

const keys = await testKeys();
const admin = { authorization: `Bearer ${await mint({ scope: "admin", ttl: 3_600 })}` };

/** Counts the rows of the tracker's outbox of this origin without running a tracker. */
const OUTBOX = `window.outbox = () => new Promise((resolve) => {
  const open = indexedDB.open("kaiten-track", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "id" });
  open.onsuccess = () => {
    const all = open.result.transaction("outbox").objectStore("outbox").getAll();
    all.onsuccess = () => { open.result.close(); resolve(all.result.length); };
  };
});`;

const PAGES = {
  "track.html": page(
    "track",
    `const q = new URL(location.href).searchParams;
     ${OUTBOX}
     window.siteTracker = kaiten.createTracker({
       url: "BROKER_URL", topic: q.get("topic"), siteKey: q.get("key"), flushIntervalMs: 600_000,
       onRefused: (e) => { window.refusals = (window.refusals ?? 0) + 1; },
     });`,
  ),
};

declare global {
  interface Window {
    siteTracker: {
      track(event: string, props?: Record<string, unknown>): void;
      flush(): Promise<void>;
      refused?: { status: number; code: string };
    };
    refusals?: number;
    outbox(): Promise<number>;
  }
}

async function siteKey(h: Harness, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${h.broker.url}/v1/site-keys`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

async function open(h: Harness, origin: string, topic: string, key: string): Promise<Page> {
  const p = await (await h.context()).newPage();
  await p.goto(`${origin}/track.html?topic=${topic}&key=${key}`);
  await p.waitForFunction(() => window.siteTracker !== undefined);
  return p;
}

/** The events stored in the topic's partition 0, read with an admin token. */
async function stored(h: Harness, topic: string): Promise<string[]> {
  const res = await fetch(
    `${h.broker.url}/v1/topics/${topic}/partitions/0/records?offset=0&limit=1000`,
    { headers: admin },
  );
  const body = (await res.json()) as { records: Array<{ value: { event: string } }> };
  return body.records.map((r) => r.value.event);
}

const track = (p: Page, events: string[]) =>
  p.evaluate(async (events) => {
    for (const e of events) window.siteTracker.track(e);
    await window.siteTracker.flush();
  }, events);

export function trackSiteKeySuite(host: SdkHost): void {
  describe(`the tracker with a site key (§15.5) on ${host.name}`, () => {
    const harness = useHarness(PAGES, () => ({ args: jwtArgs(keys), headers: admin }), host);

    it("delivers from a page of an origin the key names", async () => {
      const h = harness();
      const topic = `site-ok-${Date.now()}`;
      await h.broker.createTopic(topic);
      const key = await siteKey(h, { origins: [h.origin], topics: [topic] });
      const p = await open(h, h.origin, topic, key);
      await track(p, ["a", "b", "c"]);
      expect(await stored(h, topic)).toEqual(["a", "b", "c"]);
      expect(await p.evaluate(() => window.outbox())).toBe(0);
      expect(await p.evaluate(() => window.siteTracker.refused)).toBeUndefined();
    });

    it("is refused on another origin: it stops sending, says why once, and keeps its events in the outbox", async () => {
      const h = harness();
      const topic = `site-other-${Date.now()}`;
      await h.broker.createTopic(topic);
      const key = await siteKey(h, { origins: [h.origin], topics: [topic] });
      const p = await open(h, h.otherOrigin, topic, key);
      const posts: string[] = [];
      p.on("request", (r) => {
        if (r.method() === "POST") posts.push(r.url());
      });
      await track(p, ["x", "y"]);
      expect(await p.evaluate(() => window.siteTracker.refused)).toMatchObject({
        status: 403,
        code: "FORBIDDEN",
      });
      expect(posts).toHaveLength(1);
      expect(new URL(posts[0] as string).searchParams.get("key")).toBe(key);
      // Later events and flushes send nothing more, and everything stays in the outbox.
      await track(p, ["z"]);
      expect(posts).toHaveLength(1);
      expect(await p.evaluate(() => window.refusals)).toBe(1);
      expect(await p.evaluate(() => window.outbox())).toBe(2);
      expect(await stored(h, topic)).toEqual([]);
    });

    it("waits out Retry-After when over the key's rate, and stores every event once", async () => {
      const h = harness();
      const topic = `site-rate-${Date.now()}`;
      await h.broker.createTopic(topic);
      const key = await siteKey(h, {
        origins: [h.origin],
        topics: [topic],
        recordsPerSecond: 1,
        burst: 1,
      });
      const p = await open(h, h.origin, topic, key);
      const throttled: string[] = [];
      p.on("response", (r) => {
        if (r.status() === 429) throttled.push(r.headers()["retry-after"] ?? "");
      });
      await track(p, ["1", "2", "3"]);
      await track(p, ["4", "5"]);
      expect(throttled.length).toBeGreaterThan(0);
      expect(Number(throttled[0])).toBeGreaterThan(0);
      // The throttled batch was kept, and a later flush sends it once the wait is over.
      expect(await p.evaluate(() => window.outbox())).toBe(1);
      const deadline = Date.now() + 30_000;
      while ((await stored(h, topic)).length < 5 && Date.now() < deadline) {
        await p.evaluate(() => window.siteTracker.flush());
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(await stored(h, topic)).toEqual(["1", "2", "3", "4", "5"]);
      expect(await p.evaluate(() => window.outbox())).toBe(0);
    });
  });
}
