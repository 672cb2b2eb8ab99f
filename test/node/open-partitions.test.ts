/**
 * The Node host as a process, with KAITEN_MAX_OPEN_PARTITIONS: a host asked for many more
 * partitions than the limit keeps its open files within it once they are idle, and serves
 * every partition's records from its file afterwards. A bad limit stops it at the start.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker, NODE_HOST } from "../lib/broker.ts";
import { postJson, readPartition } from "../lib/http.ts";
import { tempDirs } from "./files.ts";

const LIMIT = 4;
const PARTITIONS = 24;
/** Files each open partition holds: its database, -wal and -shm, and the -wal kept to sync. */
const FILES_PER_PARTITION = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

let broker: Broker;
beforeAll(async () => {
  broker = await Broker.start({
    host: "node",
    vars: { KAITEN_MAX_OPEN_PARTITIONS: String(LIMIT) },
  });
});
afterAll(() => broker?.dispose());

describe("the Node host's open partitions (KAITEN_MAX_OPEN_PARTITIONS)", () => {
  it("closes idle partitions past the limit and serves them again from their files", async () => {
    const url = broker.url;
    const created = await postJson(`${url}/v1/topics`, { name: "rooms", partitions: PARTITIONS });
    expect(created.status).toBe(201);
    // Warm: the metrics partition and the registry are open before the count starts.
    await postJson(`${url}/v1/topics/rooms/records`, { partition: 0, records: [{ value: 0 }] });
    await sleep(1_200);
    const before = openFiles(broker.processGroup);

    for (let p = 0; p < PARTITIONS; p++) {
      const r = await postJson(`${url}/v1/topics/rooms/records`, {
        partition: p,
        records: [{ value: { room: p } }],
      });
      expect(r.status).toBe(200);
    }
    // All were asked for within the last second, so none has been closed yet.
    expect(openFiles(broker.processGroup)).toBeGreaterThan(before + LIMIT * FILES_PER_PARTITION);
    // A second later they count as unused; the next request closes the idle ones past LIMIT.
    await sleep(1_200);
    const first = await readPartition(url, "rooms", 0);
    expect(first.records.map((r) => r.value)).toEqual([0, { room: 0 }]);
    const bounded = openFiles(broker.processGroup);
    expect(bounded).toBeLessThanOrEqual(before + LIMIT * FILES_PER_PARTITION);

    // Each one opens again from its file with what it acknowledged.
    for (let p = 1; p < PARTITIONS; p++) {
      const { records } = await readPartition(url, "rooms", p);
      expect(records.map((r) => r.value)).toEqual([{ room: p }]);
    }
  });
});

describe("a bad KAITEN_MAX_OPEN_PARTITIONS", () => {
  const tempDir = tempDirs("kaiten-open-");
  it("stops the host at its start with a message naming the setting", () => {
    for (const bad of ["0", "-3", "lots", "1.5"]) {
      const run = spawnSync(process.execPath, [NODE_HOST, "--port", "0", "--data", tempDir()], {
        env: { ...process.env, KAITEN_AUTH: "off", KAITEN_MAX_OPEN_PARTITIONS: bad },
        encoding: "utf8",
        timeout: 10_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`KAITEN_MAX_OPEN_PARTITIONS) must be a whole number`);
      expect(run.stderr).toContain(`"${bad}"`);
    }
  });
});
