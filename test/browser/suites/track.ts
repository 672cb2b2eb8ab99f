/**
 * The tracker in Chromium: a page closed before its batch was sent still gets its events
 * stored, once: by the beacon sent on pagehide, or, when the page crashed and sent nothing,
 * from the IndexedDB outbox by the next page of the site.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { SdkHost } from "../../../client-sdk/test/support/hosts.ts";
import { type Harness, page, useHarness } from "../harness.ts";

/** Reads the tracker's outbox without running a tracker. */
const OUTBOX_PAGE = `<!doctype html><script>
window.outbox = () => new Promise((resolve) => {
  const open = indexedDB.open("kaiten-track", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "id" });
  open.onsuccess = () => {
    const all = open.result.transaction("outbox").objectStore("outbox").getAll();
    all.onsuccess = () => { open.result.close(); resolve(all.result.length); };
  };
});
</script>`;

const PAGES = {
  "outbox.html": OUTBOX_PAGE,
  "track.html": page(
    "track",
    `const topic = new URL(location.href).searchParams.get("topic");
     // Nothing is sent on a timer: only the beacon, the outbox or an explicit flush send.
     window.tracker = kaiten.createTracker({ url: "BROKER_URL", topic, flushIntervalMs: 600_000, autocapture: true });`,
  ),
};

declare global {
  interface Window {
    tracker: {
      track(event: string, props?: Record<string, unknown>): void;
      flush(): Promise<void>;
    };
    outbox(): Promise<number>;
  }
}

interface Stored {
  value: { event: string; url: string; props: Record<string, unknown> };
}

async function stored(h: Harness, topic: string): Promise<Stored[]> {
  const res = await fetch(
    `${h.broker.url}/v1/topics/${topic}/partitions/0/records?offset=0&limit=1000`,
  );
  return res.status === 200 ? ((await res.json()) as { records: Stored[] }).records : [];
}

async function open(
  h: Harness,
  context: Awaited<ReturnType<Harness["context"]>>,
  topic: string,
): Promise<Page> {
  const p = await context.newPage();
  await p.goto(`${h.origin}/track.html?topic=${topic}`);
  await p.waitForFunction(() => window.tracker !== undefined);
  return p;
}

export function trackSuite(host: SdkHost): void {
  describe(`click tracking on ${host.name}`, () => {
    const harness = useHarness(PAGES, undefined, host);

    it("sends a closing page's events by beacon, and a later page sending its outbox stores nothing twice", async () => {
      const h = harness();
      const topic = "track-beacon";
      await h.broker.createTopic(topic);
      const context = await h.context();
      const first = await open(h, context, topic);
      await first.evaluate(() => {
        for (let i = 0; i < 5; i++) window.tracker.track("view", { i });
      });
      await first.click("#buy");
      // Written to the outbox (after sealMs), then closed with the batch unsent: only
      // pagehide's beacon can carry it now.
      await first.waitForTimeout(600);
      await first.close({ runBeforeUnload: true });
      await expect.poll(async () => (await stored(h, topic)).length, { timeout: 15_000 }).toBe(6);
      const reader = await context.newPage();
      await reader.goto(`${h.origin}/outbox.html`);
      // One batch, or two if the click came more than sealMs after the views.
      expect(await reader.evaluate(() => window.outbox())).toBeGreaterThan(0);
      await reader.close();

      // The next page finds the batches in the outbox (a beacon's fate is unknown) and sends
      // them again: the broker recognizes each batch's producer identity and stores nothing.
      const second = await open(h, context, topic);
      await second.evaluate(() => window.tracker.flush());
      const after = await context.newPage();
      await after.goto(`${h.origin}/outbox.html`);
      expect(await after.evaluate(() => window.outbox())).toBe(0);
      const records = await stored(h, topic);
      expect(records.map((r) => r.value.event)).toEqual([
        "view",
        "view",
        "view",
        "view",
        "view",
        "click",
      ]);
      expect(records.slice(0, 5).map((r) => r.value.props.i)).toEqual([0, 1, 2, 3, 4]);
      expect(records[5]?.value.props).toEqual({
        path: "html > body > button#buy.cta.big",
        text: "Buy now",
      });
      expect(records[0]?.value.url).toContain("/track.html");
    });

    it("delivers a crashed page's batch from the outbox, once, through the next pages", async () => {
      const h = harness();
      const topic = "track-outbox";
      await h.broker.createTopic(topic);
      const context = await h.context();
      const first = await open(h, context, topic);
      await first.evaluate(() => {
        for (let i = 0; i < 3; i++) window.tracker.track("crash", { i });
      });
      // Written to the outbox (after sealMs), then the renderer dies: no pagehide, no beacon.
      await first.waitForTimeout(600);
      const cdp = await context.newCDPSession(first);
      const crashed = first.waitForEvent("crash");
      // The command gets no answer: its renderer is gone.
      cdp.send("Page.crash").catch(() => {});
      await crashed;
      expect(await stored(h, topic)).toHaveLength(0);
      const reader = await context.newPage();
      await reader.goto(`${h.origin}/outbox.html`);
      expect(await reader.evaluate(() => window.outbox())).toBe(1);
      await reader.close();

      const second = await open(h, context, topic);
      await second.evaluate(() => window.tracker.flush());
      await second.evaluate(() => window.tracker.flush());
      const third = await open(h, context, topic);
      await third.evaluate(() => window.tracker.flush());
      expect((await stored(h, topic)).map((r) => r.value.props.i)).toEqual([0, 1, 2]);
    });
  });
}
