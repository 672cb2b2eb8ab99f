// `npm run bench:durability`: bundles test/bench/durability.ts and the Node host it forks
// with esbuild (Node 20 cannot run TypeScript), then runs it.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../node_modules/.cache/kaiten-bench");
await build({
  entryPoints: ["durability", "node-host-process"].map((e) => join(here, `${e}.ts`)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["ws", "uWebSockets.js", "better-sqlite3"],
  logLevel: "warning",
});
const result = spawnSync(process.execPath, [join(out, "durability.mjs")], { stdio: "inherit" });
process.exit(result.status ?? 1);
