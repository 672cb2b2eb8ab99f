/**
 * The official Durable Streams conformance suite, counted (docs/PROTOCOL.md §18.10), on every
 * host. It runs in a child vitest (test/conformance/) against its own broker of the host
 * (KAITEN_CONFORMANCE_HOST); this test checks that every test it runs passes and that the
 * count is the one PROTOCOL.md reports, so the document and neither host can drift apart.
 * Failed tests are retried twice: the suite's TTL tests sleep for fixed times and can miss on
 * a loaded machine.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { HostUnderTest } from "./hosts.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Report {
  testResults: Array<{
    message?: string;
    assertionResults: Array<{ fullName: string; status: string }>;
  }>;
}

function runSuite(host: HostUnderTest, outputFile: string): Promise<number | null> {
  const args = ["run", "--config", "test/conformance/vitest.config.ts", "--retry=2"];
  args.push("--reporter=json", `--outputFile=${outputFile}`);
  const env = { ...process.env, KAITEN_CONFORMANCE_HOST: host.broker.host ?? "cloudflare" };
  const child = spawn(join(ROOT, "node_modules/.bin/vitest"), args, {
    cwd: ROOT,
    stdio: "ignore",
    env,
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

/** "Kaiten passes **N of T**" in PROTOCOL.md §18.10. */
function documentedCount(): { passed: number; total: number } {
  const spec = readFileSync(join(ROOT, "docs/PROTOCOL.md"), "utf8");
  const m = /Kaiten passes \*\*(\d+) of (\d+)\*\*/.exec(spec);
  if (!m) throw new Error("PROTOCOL.md §18.10 does not state the conformance count");
  return { passed: Number(m[1]), total: Number(m[2]) };
}

export function conformanceSuite(host: HostUnderTest): void {
  describe(`Durable Streams conformance on ${host.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), "kaiten-conformance-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("passes every conformance test it runs, as many as PROTOCOL.md reports", async () => {
      const output = join(dir, "report.json");
      await runSuite(host, output);
      const report = JSON.parse(readFileSync(output, "utf8")) as Report;
      const tests = report.testResults.flatMap((f) => f.assertionResults);
      const failed = tests.filter((t) => t.status === "failed").map((t) => t.fullName);
      const passed = tests.filter((t) => t.status === "passed").length;
      expect(report.testResults.map((f) => f.message ?? "")).toEqual([""]);
      expect(failed).toEqual([]);
      expect({ passed, total: tests.length }).toEqual(documentedCount());
    }, 900_000);
  });
}
