// Bundles the Node host (edge/src/node/main.ts) into edge/dist-node/kaiten.mjs: Node 20 cannot
// run TypeScript itself. Native packages (uWebSockets.js, better-sqlite3) load from node_modules.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
export const outfile = join(here, "../../dist-node/kaiten.mjs");

await build({
  entryPoints: [join(here, "main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["uWebSockets.js", "better-sqlite3"],
  logLevel: "warning",
});
