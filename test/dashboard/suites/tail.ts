/**
 * The live tail subscribes with the SDK: records appear with their offsets, in order, from the
 * chosen start; pause holds them at the broker (flow control) and resume loses none.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { postJson } from "../../lib/http.ts";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { createTopic, produce, useDashboard } from "../harness.ts";

/** The offsets on screen, top (newest) first. */
function offsets(page: Page): Promise<number[]> {
  return page
    .getByTestId("tail-record")
    .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-offset"))));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

export function tailSuite(host: HostUnderTest): void {
  describe(`live tail on ${host.name}`, () => {
    const h = useDashboard(host);

    it("shows stored and then live records in order, with their offsets, keys and values", async () => {
      const { broker } = h();
      await createTopic(broker.url, "orders", 1);
      const stored = await produce(
        broker.url,
        "orders",
        range(0, 5).map((n) => ({ key: `user-${n}`, value: { n, item: "gyoza" } })),
      );
      expect(stored.map((o) => o.offset)).toEqual(range(0, 5));
      const { page, errors } = await h().open("/tail");
      await page.getByLabel("Topic").fill("orders");
      await page.getByLabel("Start at").selectOption("earliest");
      await page.getByRole("button", { name: "Start tail" }).click();
      await expect.poll(() => offsets(page)).toEqual(range(0, 5).reverse());

      await produce(
        broker.url,
        "orders",
        range(5, 15).map((n) => ({ key: `user-${n}`, value: { n, item: "miso-soup" } })),
      );
      await expect.poll(() => offsets(page)).toEqual(range(0, 15).reverse());
      const newest = page.getByTestId("tail-record").first();
      expect(await newest.locator(".rec-key").textContent()).toBe("user-14");
      // Small values stay on one line, spaced; larger ones are indented (util.inspect's way).
      expect(await newest.locator(".rec-value").textContent()).toBe(
        '{ "n": 14, "item": "miso-soup" }',
      );
      await h().screenshot(page, "tail");
      expect(errors).toEqual([]);
    });

    it("pausing holds new records at the broker, and resuming delivers every one of them", async () => {
      const { broker } = h();
      const { page } = await h().open("/tail?topic=orders");
      await page.getByTestId("tail-status").getByText("Live").waitFor();
      await page.getByRole("button", { name: "Pause" }).click();
      await produce(
        broker.url,
        "orders",
        range(15, 18).map((n) => ({ value: { n } })),
      );
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await offsets(page)).toEqual([]);
      await page.getByRole("button", { name: "Resume" }).click();
      await expect.poll(() => offsets(page)).toEqual([17, 16, 15]);
    });

    it("starts at an offset of a partition, or at a time", async () => {
      const { broker } = h();
      const { page } = await h().open("/tail");
      await page.getByLabel("Topic").fill("orders");
      await page.getByLabel("Partition").selectOption("0");
      await page.getByLabel("Start at").selectOption("offset");
      await page.getByLabel("Offset").fill("12");
      await page.getByRole("button", { name: "Start tail" }).click();
      await expect.poll(() => offsets(page)).toEqual(range(12, 18).reverse());

      // Records stamped a minute apart in 2020; the tail starts at the first at or after 00:01.
      // The topic keeps them forever: with the default 7 days, time retention (by record
      // timestamp) would delete them about a second after they are written.
      const t0 = Date.UTC(2020, 0, 1);
      const created = await postJson(`${broker.url}/v1/topics`, {
        name: "history",
        partitions: 1,
        retentionMs: -1,
      });
      expect(created.status).toBe(201);
      await produce(
        broker.url,
        "history",
        range(0, 3).map((n) => ({ value: { n }, timestamp: t0 + n * 60_000 })),
      );
      await page.getByLabel("Topic").fill("history");
      await page.getByLabel("Partition").selectOption("");
      await page.getByLabel("Start at").selectOption("time");
      // datetime-local is the browser's local time: let the browser write it.
      const local = await page.evaluate((ms) => {
        const d = new Date(ms);
        return new Date(ms - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      }, t0 + 60_000);
      await page.getByLabel("From time").fill(local);
      await page.getByRole("button", { name: "Start tail" }).click();
      await expect.poll(() => offsets(page)).toEqual([2, 1]);
    });

    it("says so, and creates nothing, when asked to tail a topic that does not exist", async () => {
      const { broker } = h();
      const { page } = await h().open("/tail");
      await page.getByLabel("Topic").fill("no-such-topic");
      await page.getByRole("button", { name: "Start tail" }).click();
      await page.getByRole("alert").getByText("There is no topic named").waitFor();
      expect((await fetch(`${broker.url}/v1/topics/no-such-topic`)).status).toBe(404);
    });

    it("filters by key, and shows records sent from the produce form with their headers", async () => {
      const { broker } = h();
      await createTopic(broker.url, "clicks", 3);
      const { page } = await h().open("/tail");
      await page.getByLabel("Topic").fill("clicks");
      await page.getByLabel("Key").fill("user-7");
      await page.getByRole("button", { name: "Start tail" }).click();
      await page.getByTestId("tail-status").getByText("Live").waitFor();
      await produce(broker.url, "clicks", [
        { key: "user-7", value: { n: 1 } },
        { key: "user-8", value: { n: 2 } },
        { key: "user-7", value: { n: 3 } },
      ]);
      await expect.poll(() => page.getByTestId("tail-record").count()).toBe(2);
      expect(await page.locator(".rec-key").allTextContents()).toEqual(["user-7", "user-7"]);

      // The produce page, in the same tab: the tail keeps running in the store meanwhile.
      await page.getByRole("link", { name: "Produce" }).click();
      await page.getByLabel("Topic").fill("clicks");
      await page.getByLabel("Key").fill("user-7");
      await page.getByLabel("Value (JSON)").fill('{"button": "buy"}');
      await page.getByRole("button", { name: "+ Add header" }).click();
      await page.getByLabel("Header 1 name").fill("source");
      await page.getByLabel("Header 1 value").fill("dashboard-test");
      await page.getByRole("button", { name: "Send record" }).click();
      await page.getByTestId("produce-result").first().waitFor();
      expect(await page.getByTestId("produce-result").first().textContent()).toMatch(
        /clicks partition \d, offset 2/,
      );
      await h().screenshot(page, "produce");

      await page.getByRole("link", { name: "Live tail" }).click();
      await expect.poll(() => page.getByTestId("tail-record").count()).toBe(3);
      expect(await page.getByTestId("tail-record").first().locator(".chip").textContent()).toBe(
        "source: dashboard-test",
      );
    });
  });
}
