/** The topics table lists the broker's topics (GET /v1/topics) and creates new ones (POST). */
import { describe, expect, it } from "vitest";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { createTopic, useDashboard } from "../harness.ts";

export function topicsSuite(host: HostUnderTest): void {
  describe(`topics page on ${host.name}`, () => {
    const h = useDashboard(host);

    it("creating a topic from the UI adds its row, with its partitions", async () => {
      const { broker } = h();
      await createTopic(broker.url, "pageviews", 2);
      const { page, errors } = await h().open("/topics");
      const rows = page.getByTestId("topic-row");
      await expect.poll(() => rows.count()).toBe(1);

      await page.getByRole("button", { name: "New topic" }).click();
      await page.getByLabel("Name").fill("payments");
      await page.getByLabel("Partitions").fill("4");
      await page.getByLabel("Retention").selectOption({ label: "1 day" });
      await page.getByRole("button", { name: "Create topic" }).click();

      await expect.poll(() => rows.count()).toBe(2);
      const row = page.locator('[data-testid="topic-row"][data-topic="payments"]');
      await expect.poll(() => row.locator("td").nth(1).textContent()).toBe("4");
      expect(await row.locator("td").nth(2).textContent()).toContain("1 d");
      const res = await fetch(`${broker.url}/v1/topics/payments`);
      expect(((await res.json()) as { partitionCount: number }).partitionCount).toBe(4);
      await h().screenshot(page, "topics");
      expect(errors).toEqual([]);
    });

    it("hides the broker's own __ topics unless asked", async () => {
      const { page } = await h().open("/topics");
      await expect.poll(() => page.getByTestId("topic-row").count()).toBe(2);
      await page.getByLabel("Show system topics").check();
      await expect
        .poll(() => page.locator('[data-testid="topic-row"][data-topic="__metrics"]').count())
        .toBe(1);
    });
  });
}
