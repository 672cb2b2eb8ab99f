// A group member in a process of its own (the built bundle), for kill -9 tests: prints one
// JSON line per record it processed, and "assigned" lines with its partitions.
// Usage: node group-member.mjs URL GROUP TOPIC
import WebSocket from "ws";
import { joinGroup } from "../../dist/group.js";
import { createClient } from "../../dist/index.js";

const [url, group, topic] = process.argv.slice(2);
const client = createClient({ url, WebSocket });
const member = joinGroup(
  client,
  { group, topic, from: "earliest", sessionTimeoutMs: 3_000, commitIntervalMs: 100 },
  (rec) => {
    process.stdout.write(`${JSON.stringify({ value: rec.value })}\n`);
  },
);
member.on("assigned", () =>
  process.stdout.write(`${JSON.stringify({ assigned: member.assignment() })}\n`),
);
member.on("revoked", () =>
  process.stdout.write(`${JSON.stringify({ assigned: member.assignment() })}\n`),
);
