/** The consumer groups panel (PROTOCOL.md §16): a group's members and its lag per partition. */
import { describe, expect, it } from "vitest";
import { postJson } from "../../lib/http.ts";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { createTopic, produce, useDashboard } from "../harness.ts";

export function groupsSuite(host: HostUnderTest): void {
  describe(`consumer groups panel on ${host.name}`, () => {
    const h = useDashboard(host);

    it("shows a group's members, committed offsets and lag, follows a commit, and resets and deletes an empty group", async () => {
      const { broker } = h();
      await createTopic(broker.url, "orders", 2);
      await produce(
        broker.url,
        "orders",
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i })),
      );
      const joined = await postJson<{ memberId: string; generation: number }>(
        `${broker.url}/v1/groups/billing/members`,
        { topics: ["orders"], instanceId: "billing-worker-1", sessionTimeoutMs: 60_000 },
      );
      const { page, errors } = await h().open("/topics/orders");
      // Once the page shows the group, the metrics stream keeps it live: count what it asks.
      const describes: string[] = [];
      page.on("request", (r) => {
        if (new URL(r.url()).pathname.startsWith("/v1/groups")) describes.push(r.url());
      });
      const group = page.locator('[data-testid="group"][data-group="billing"]');
      await expect
        .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
        .toBe("10");
      expect(await group.getByTestId("group-partition").count()).toBe(2);
      expect(await group.textContent()).toContain("billing-worker-1");
      describes.length = 0;
      const base = `${broker.url}/v1/groups/billing/members/${joined.body.memberId}`;
      const committed = await postJson(`${base}/commit`, {
        generation: joined.body.generation,
        offsets: [
          { topic: "orders", partition: 0, offset: 2 },
          { topic: "orders", partition: 1, offset: 1 },
        ],
      });
      expect(committed.status).toBe(200);
      // The commit arrives as the group's record in __metrics, not by asking the broker.
      await expect
        .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
        .toBe("7");
      expect(describes).toEqual([]);
      // Records produced with no commit: lag follows the partitions' high watermarks there.
      await produce(
        broker.url,
        "orders",
        Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: i })),
      );
      await expect
        .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
        .toBe("12");
      expect(describes).toEqual([]);
      await h().screenshot(page, "groups");
      const reset = group.getByRole("button", { name: "Reset to earliest" });
      expect(await reset.isDisabled()).toBe(true);
      const left = await fetch(base, { method: "DELETE" });
      expect(left.status).toBe(200);
      await expect.poll(() => reset.isDisabled(), { timeout: 10_000 }).toBe(false);
      await reset.click();
      await expect
        .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
        .toBe("15");
      await group.getByRole("button", { name: "Delete group" }).click();
      await expect.poll(() => group.count(), { timeout: 10_000 }).toBe(0);
      expect((await fetch(`${broker.url}/v1/groups/billing`)).status).toBe(404);
      expect(errors).toEqual([]);
    });
  });
}
