/**
 * The overview reads the broker's `__metrics` stream (docs/PROTOCOL.md §14) through the SDK:
 * with traffic flowing, the live rate and the charts move within seconds.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { createTopic, traffic, useDashboard } from "../harness.ts";

/** Pixels of the chart's "In" line (#f97362) above the bottom fifth of the canvas: a line drawn off the floor. */
function raisedLinePixels(page: Page, testId: string): Promise<number> {
  return page.evaluate((id) => {
    const canvas = document.querySelector(
      `[data-testid="${id}"] canvas`,
    ) as HTMLCanvasElement | null;
    if (!canvas) return 0;
    const ctx = canvas.getContext("2d");
    if (!ctx) return 0;
    const { data } = ctx.getImageData(0, 0, canvas.width, Math.floor(canvas.height * 0.8));
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i] as number, data[i + 1] as number, data[i + 2] as number];
      if (Math.abs(r - 249) < 12 && Math.abs(g - 115) < 12 && Math.abs(b - 98) < 12) n++;
    }
    return n;
  }, testId);
}

export function overviewSuite(host: HostUnderTest): void {
  describe(`overview on ${host.name}`, () => {
    const h = useDashboard(host);

    it("shows a non-zero records/s rate within seconds while traffic flows, and draws it", async () => {
      const { broker } = h();
      await createTopic(broker.url, "clicks", 3);
      await createTopic(broker.url, "orders", 1);
      const stopClicks = traffic(broker.url, "clicks", 200);
      const stopOrders = traffic(broker.url, "orders", 20);
      try {
        const { page, errors } = await h().open("/");
        await page
          .getByTestId("connection-status")
          .and(page.locator('[data-state="open"]'))
          .waitFor();
        const rate = page.getByTestId("total-in-rate");
        await page.waitForFunction(
          () =>
            Number(
              document.querySelector('[data-testid="total-in-rate"]')?.getAttribute("data-value"),
            ) > 0,
          undefined,
          { timeout: 10_000 },
        );
        expect(Number((await rate.textContent())?.replace(/,/g, ""))).toBeGreaterThan(0);
        // The chart ends two seconds back (buckets settle); give the line time to rise.
        await expect
          .poll(() => raisedLinePixels(page, "chart-records"), { timeout: 10_000 })
          .toBeGreaterThan(20);
        await expect
          .poll(() => page.getByRole("link", { name: "clicks" }).count())
          .toBeGreaterThan(0);
        // A few more seconds of history, so the screenshot shows a chart and not a spike.
        await page.waitForTimeout(6_000);
        await h().screenshot(page, "overview");

        await page.getByRole("link", { name: "clicks" }).first().click();
        await page.getByRole("heading", { name: "clicks", level: 1 }).waitFor();
        await expect.poll(() => page.getByTestId("partition-row").count()).toBe(3);
        await h().screenshot(page, "topic-page");
        expect(errors).toEqual([]);
      } finally {
        await stopClicks();
        await stopOrders();
      }
    });

    it("reads back the metrics history when it opens, so a new page has a past at once", async () => {
      const { page } = await h().open("/");
      // The traffic of the previous test stopped; its history is in __metrics already.
      await expect
        .poll(() => raisedLinePixels(page, "chart-records"), { timeout: 10_000 })
        .toBeGreaterThan(20);
    });

    it("says that auth is off, at the top of the page and in the sidebar, when the broker checks no tokens (§15.1)", async () => {
      const { page } = await h().open("/");
      const notice = page.getByTestId("auth-off");
      await notice.waitFor({ timeout: 10_000 });
      expect(await notice.textContent()).toContain("Auth is off");
      expect(await page.getByTestId("auth-off-pill").isVisible()).toBe(true);
      expect(await page.getByTestId("sign-in").count()).toBe(0);
    });
  });
}
