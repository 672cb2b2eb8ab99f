/**
 * Vitest global setup of the dashboard and browser projects: the dashboard's brokers serve
 * dashboard/dist (wrangler dev and the Node host alike), and both projects' Node hosts run from
 * edge/dist-node/kaiten.mjs. `npm test` builds both first (npm run build); this covers running
 * a project alone on a fresh clone. It does not rebuild an existing build: other projects'
 * brokers may be reading it meanwhile.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const built = ["dashboard/dist/index.html", "edge/dist-node/kaiten.mjs"];
  if (built.every((file) => existsSync(`${root}${file}`))) return;
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}
