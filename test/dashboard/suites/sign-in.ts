/**
 * Signing in to the dashboard of a broker that checks tokens (PROTOCOL.md §15): a token is
 * accepted and its subject and rights shown, actions it may not take are disabled with the
 * reason, a bad token is refused, and a 401 later returns to the sign-in screen.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { jwtVars, mint, testKeys } from "../../lib/auth.ts";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { useDashboard } from "../harness.ts";

const keys = await testKeys();

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByTestId("sign-in").getByRole("textbox").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export function signInSuite(host: HostUnderTest): void {
  describe(`sign-in on ${host.name}`, () => {
    const h = useDashboard(host, jwtVars(keys));

    it("accepts a token, shows who is signed in with which rights, and disables what it may not do with the reason", async () => {
      const token = await mint({ subject: "ada", scope: "subscribe:clicks* produce:clicks" });
      const { page, errors } = await h().open("/topics");
      await signIn(page, token);
      await expect.poll(() => page.getByTestId("who-subject").textContent()).toBe("ada");
      expect(await page.getByTestId("who-rights").locator("li").allTextContents()).toEqual([
        "produce:clicks",
        "subscribe:clicks*",
      ]);
      const create = page.getByRole("button", { name: "New topic" });
      expect(await create.isDisabled()).toBe(true);
      expect(await page.getByTestId("denied").textContent()).toContain("admin right");
      await h().screenshot(page, "sign-in-topics");

      // Without subscribe on __metrics there are no charts, and it says why.
      await page.getByRole("link", { name: "Overview", exact: true }).click();
      await expect
        .poll(() => page.getByText("No live metrics").textContent())
        .toContain("no subscribe right on “__metrics”");
      expect(await page.getByTestId("connection-banner").count()).toBe(0);

      // Produce: allowed to "clicks", not to "orders".
      await page.getByRole("link", { name: "Produce" }).click();
      const topic = page.getByLabel("Topic");
      const send = page.getByRole("button", { name: "Send record" });
      await topic.fill("orders");
      await expect.poll(() => send.isDisabled()).toBe(true);
      expect(await page.getByTestId("denied").textContent()).toContain(
        "no produce right on “orders”",
      );
      await topic.fill("clicks");
      await expect.poll(() => send.isDisabled()).toBe(false);
      expect(await page.getByTestId("denied").count()).toBe(0);
      // The token stays for this tab only: sessionStorage, not localStorage.
      expect(await page.evaluate(() => sessionStorage.getItem("kaiten.token"))).toBe(token);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      expect(errors).toEqual([]);
    });

    it("refuses a bad token and stays on the sign-in screen", async () => {
      const forged = await mint({
        scope: "admin",
        secret: "not-the-broker-secret-0123456789abcdef",
      });
      const { page } = await h().open("/");
      await signIn(page, forged);
      const alert = page.getByTestId("sign-in").getByRole("alert");
      await expect.poll(() => alert.textContent()).toContain("UNAUTHENTICATED");
      expect(await page.getByTestId("who").count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.getItem("kaiten.token"))).toBeNull();
      await h().screenshot(page, "sign-in-refused");
    });

    it("returns to the sign-in screen when the broker closes the socket of a token that ran out (4027)", async () => {
      // exp 15 s ago: the broker's 30 s leeway accepts it for about 15 s more, then closes
      // the dashboard's sockets with TOKEN_EXPIRED; a fixed token cannot be renewed.
      const token = await mint({ subject: "brief", scope: "admin", ttl: -15 });
      const { page } = await h().open("/topics");
      await signIn(page, token);
      const who = page.getByTestId("who-subject");
      await who.waitFor({ timeout: 10_000 });
      expect(await who.textContent()).toBe("brief");
      await page.getByText("Signed out").waitFor({ timeout: 45_000 });
      expect(await page.getByTestId("who").count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.getItem("kaiten.token"))).toBeNull();
      await h().screenshot(page, "sign-in-expired");
    }, 90_000);
  });
}
