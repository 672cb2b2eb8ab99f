/**
 * Vitest global setup: builds client-sdk/dist when it is missing or older than a source
 * file, so tests of the built bundles (test/dist.test.ts, the browser tests) never run
 * against a stale build. `npm test` builds first, so there it does nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SDK = fileURLToPath(new URL("../..", import.meta.url));

function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir).map((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? newest(path) : statSync(path).mtimeMs;
    }),
  );
}

export default function setup(): void {
  const out = join(SDK, "dist/index.js");
  const sources = Math.max(newest(join(SDK, "src")), newest(join(SDK, "../protocol/src")));
  if (existsSync(out) && statSync(out).mtimeMs > sources) return;
  execFileSync(process.execPath, [join(SDK, "scripts/build.mjs")], { stdio: "inherit" });
}
