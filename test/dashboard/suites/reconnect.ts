/**
 * Broker unreachable: a clear banner, then automatic recovery. The SDK reconnects on its own
 * and every subscription resumes from its position, so the tail continues at the next offset.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { createTopic, produce, useDashboard } from "../harness.ts";

const state = (page: Page) => page.getByTestId("connection-status").getAttribute("data-state");

export function reconnectSuite(host: HostUnderTest): void {
  describe(`broker restart on ${host.name}`, () => {
    const h = useDashboard(host);

    it("shows the banner while the broker is down, then recovers and resumes the tail", async () => {
      const { broker } = h();
      await createTopic(broker.url, "orders", 1);
      await produce(broker.url, "orders", [{ value: { n: 0 } }, { value: { n: 1 } }]);
      const { page } = await h().open("/tail?topic=orders");
      await page.getByLabel("Start at").selectOption("earliest");
      await page.getByRole("button", { name: "Start tail" }).click();
      await expect.poll(() => page.getByTestId("tail-record").count()).toBe(2);
      await expect.poll(() => state(page)).toBe("open");

      await broker.stop();
      const banner = page.getByTestId("connection-banner");
      await banner.waitFor({ timeout: 15_000 });
      expect(await banner.textContent()).toContain("Cannot reach the broker");
      expect(await state(page)).toBe("offline");
      expect(await page.getByTestId("tail-status").textContent()).toBe("Reconnecting");
      await h().screenshot(page, "broker-down");

      await broker.restart();
      await banner.waitFor({ state: "detached", timeout: 30_000 });
      await expect.poll(() => state(page)).toBe("open");
      expect(await page.getByTestId("tail-status").textContent()).toBe("Live");
      await h().screenshot(page, "broker-recovered");

      // Resumed, not restarted: the next record is offset 2, after the two already shown.
      await produce(broker.url, "orders", [{ value: { n: 2 } }]);
      await expect
        .poll(() =>
          page
            .getByTestId("tail-record")
            .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-offset"))),
        )
        .toEqual(["2", "1", "0"]);
    });
  });
}
