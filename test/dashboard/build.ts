/**
 * The tests load the dashboard from wrangler dev, which serves dashboard/dist. `npm test` builds
 * it first (npm run build); this covers running the project alone on a fresh clone. It does not
 * rebuild an existing dist: other projects' wrangler processes may be reading it meanwhile.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  if (existsSync(`${root}dashboard/dist/index.html`)) return;
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}
