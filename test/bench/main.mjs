// `npm run bench`: bundles the TypeScript bench (test/bench/*.ts) with esbuild into
// node_modules/.cache/kaiten-bench, then runs it. Node 20 cannot run TypeScript itself, and
// the bench forks its load generators and relays as plain Node processes.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const out = join(root, "node_modules/.cache/kaiten-bench");
const entries = ["run", "loadgen", "relay-ws", "relay-uws"];

await build({
  entryPoints: entries.map((e) => join(here, `${e}.ts`)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Native or optional-native packages load from node_modules as usual.
  external: ["ws", "uWebSockets.js", "better-sqlite3", "vitest", "esbuild"],
  logLevel: "warning",
});

const result = spawnSync(process.execPath, [join(out, "run.mjs")], { stdio: "inherit" });
process.exit(result.status ?? 1);
