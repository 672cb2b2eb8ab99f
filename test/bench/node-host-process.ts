/**
 * A Node host for benchmarks of the `synchronous` setting (durability.ts). Not for use
 * otherwise: the real entry point (edge/src/node/main.ts) always opens with FULL, the only
 * setting under which an ack means durable.
 */
import { startServer } from "../../edge/src/node/server.ts";
import type { Synchronous } from "../../edge/src/node/sqlite.ts";

const [dataDir, synchronous] = process.argv.slice(2) as [string, Synchronous];
// Auth is on unless turned off (as on Cloudflare); the bench's client has no token.
const server = await startServer({ port: 0, dataDir, synchronous, vars: { KAITEN_AUTH: "off" } });
process.send?.(server.url);
process.once("SIGTERM", () => {
  server.stop().then(() => process.exit(0));
});
