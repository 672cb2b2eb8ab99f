/**
 * Figures for the note, printed and saved to artifacts/<host>/figures.json: the page's bundle
 * size (gzip of the built JS and CSS) and its CPU use while tailing about 2,000 records/s.
 * No timing assertion: this machine's cores are shared. What is asserted is the window bound.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { HostUnderTest } from "../../suites/hosts.ts";
import { createTopic, traffic, useDashboard } from "../harness.ts";

const ASSETS = fileURLToPath(new URL("../../../dashboard/dist/assets/", import.meta.url));
const RATE = 2_000;
const WINDOW_S = 10;

function bundle(): { js: number; css: number; jsGzip: number; cssGzip: number } {
  const out = { js: 0, css: 0, jsGzip: 0, cssGzip: 0 };
  for (const name of readdirSync(ASSETS)) {
    const kind = name.endsWith(".js") ? "js" : name.endsWith(".css") ? "css" : null;
    if (!kind) continue;
    const bytes = readFileSync(`${ASSETS}${name}`);
    out[kind] += bytes.length;
    out[`${kind}Gzip`] += gzipSync(bytes, { level: 9 }).length;
  }
  return out;
}

export function figuresSuite(host: HostUnderTest): void {
  describe(`figures on ${host.name}`, () => {
    const h = useDashboard(host);

    it(`tails ${RATE} records/s in a bounded window; prints bundle size and CPU use`, async () => {
      const { broker } = h();
      await createTopic(broker.url, "firehose", 4);
      const { page } = await h().open("/tail?topic=firehose");
      await page.getByTestId("tail-status").getByText("Live").waitFor();
      const stop = traffic(broker.url, "firehose", RATE);
      try {
        const received = async () =>
          Number(await page.getByTestId("tail-received").getAttribute("data-value"));
        await expect.poll(received, { timeout: 15_000 }).toBeGreaterThan(1_000);
        const cdp = await page.context().newCDPSession(page);
        await cdp.send("Performance.enable");
        const metrics = async () => {
          const { metrics } = await cdp.send("Performance.getMetrics");
          return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
        };
        const [before, r0] = [await metrics(), await received()];
        await new Promise((r) => setTimeout(r, WINDOW_S * 1_000));
        const [after, r1] = [await metrics(), await received()];
        const elapsed = (after.Timestamp as number) - (before.Timestamp as number);
        const pct = (k: string) =>
          Math.round((((after[k] as number) - (before[k] as number)) / elapsed) * 1000) / 10;
        const figures = {
          bundle: bundle(),
          tail: {
            recordsPerSecond: Math.round((r1 - r0) / elapsed),
            cpuPercentOfOneCore: pct("TaskDuration"),
            scriptPercentOfOneCore: pct("ScriptDuration"),
            layoutPercentOfOneCore: pct("LayoutDuration"),
            seconds: Math.round(elapsed * 10) / 10,
          },
        };
        console.log(`[dashboard figures] ${JSON.stringify(figures)}`);
        writeFileSync(h().artifact("figures.json"), `${JSON.stringify(figures, null, 2)}\n`);
        await h().screenshot(page, "tail-firehose");
        // However fast records come, the page keeps only its window of them.
        expect(await page.getByTestId("tail-record").count()).toBe(100);
      } finally {
        await stop();
      }
    });
  });
}
