/**
 * `npm run serve -- --port 8080 --data ./kaiten-data`: the self-hosted broker in the
 * foreground. Settings come from environment variables named as wrangler.toml's [vars]
 * (KAITEN_AUTO_CREATE_TOPICS, KAITEN_DEFAULT_PARTITIONS, ...); the Node host's own are the
 * options below, or KAITEN_PORT, KAITEN_HOST, KAITEN_DATA and KAITEN_MAX_OPEN_PARTITIONS.
 * SIGTERM and SIGINT finish the commits in progress, end SSE answers and close every socket
 * with going-away (1001).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.KAITEN_PORT ?? "8080" },
    host: { type: "string", default: process.env.KAITEN_HOST ?? "127.0.0.1" },
    data: { type: "string", default: process.env.KAITEN_DATA ?? "./kaiten-data" },
    "max-open-partitions": { type: "string" },
  },
});
const maxOpen = values["max-open-partitions"] || process.env.KAITEN_MAX_OPEN_PARTITIONS;
if (maxOpen && !/^[1-9][0-9]*$/.test(maxOpen)) {
  console.error(
    `kaiten: --max-open-partitions (KAITEN_MAX_OPEN_PARTITIONS) must be a whole number above 0, not "${maxOpen}"`,
  );
  process.exit(1);
}

const dataDir = resolve(values.data);
const server = await startServer({
  port: Number(values.port),
  host: values.host,
  dataDir,
  vars: process.env,
  ...(maxOpen ? { maxOpenPartitions: Number(maxOpen) } : {}),
}).catch((error: unknown) => {
  console.error(`kaiten: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(
  `Kaiten (Node host, uWebSockets.js native addon) listening on ${server.url} (data in ${dataDir})`,
);
console.log(`HTTP API: ${server.url}/v1 · dashboard: ${server.url}/`);
console.log(`WebSocket: ${server.url.replace("http", "ws")}/v1/topics/{topic}/partitions/{p}/ws`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("kaiten: stopping failed", error);
        process.exit(1);
      },
    );
  });
}
