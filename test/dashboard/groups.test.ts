/** The consumer groups panel (PROTOCOL.md §16): a group's members and its lag per partition. */
import { describe, expect, it } from "vitest";
import { postJson } from "../lib/http.ts";
import { createTopic, produce, screenshot, useDashboard } from "./harness.ts";

describe("consumer groups panel", () => {
  const h = useDashboard();

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
    const group = page.locator('[data-testid="group"][data-group="billing"]');
    await expect
      .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
      .toBe("10");
    expect(await group.getByTestId("group-partition").count()).toBe(2);
    expect(await group.textContent()).toContain("billing-worker-1");
    const base = `${broker.url}/v1/groups/billing/members/${joined.body.memberId}`;
    const committed = await postJson(`${base}/commit`, {
      generation: joined.body.generation,
      offsets: [
        { topic: "orders", partition: 0, offset: 2 },
        { topic: "orders", partition: 1, offset: 1 },
      ],
    });
    expect(committed.status).toBe(200);
    // The panel polls every 2 s.
    await expect
      .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
      .toBe("7");
    await screenshot(page, "groups");
    const reset = group.getByRole("button", { name: "Reset to earliest" });
    expect(await reset.isDisabled()).toBe(true);
    const left = await fetch(base, { method: "DELETE" });
    expect(left.status).toBe(200);
    await expect.poll(() => reset.isDisabled(), { timeout: 10_000 }).toBe(false);
    await reset.click();
    await expect
      .poll(() => group.getByTestId("group-lag").textContent(), { timeout: 10_000 })
      .toBe("10");
    await group.getByRole("button", { name: "Delete group" }).click();
    await expect.poll(() => group.count(), { timeout: 10_000 }).toBe(0);
    expect((await fetch(`${broker.url}/v1/groups/billing`)).status).toBe(404);
    expect(errors).toEqual([]);
  });
});
