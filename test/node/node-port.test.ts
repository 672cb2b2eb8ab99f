/**
 * The Node host's port (edge/src/node/port.ts) in process: consumer groups each over a file
 * of their own, at most `maxOpenGroups` open, the least recently used group without members
 * closed past it and opened again from its file, with its committed offsets.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { groupLag } from "../../edge/src/core/groups/lag.ts";
import { unwrap } from "../../edge/src/core/port.ts";
import { brokerSettings } from "../../edge/src/core/settings.ts";
import { NodePort } from "../../edge/src/node/port.ts";

const dataDir = mkdtempSync(join(tmpdir(), "kaiten-port-"));
const port = new NodePort({
  dataDir,
  settings: brokerSettings({ KAITEN_AUTH: "off" }),
  groupLag: (p) => (d) => groupLag(p, d),
  maxOpenGroups: 2,
  log: () => {},
});
afterAll(() => {
  port.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const topic = { topic: "events", partition: 0 };

async function joinGroup(group: string) {
  const r = { topics: ["events"], sessionTimeoutMs: 60_000, partitionsOf: { events: 1 } };
  return unwrap(await port.group(group).join(group, r));
}

describe("consumer groups on the Node host", () => {
  it("keeps at most maxOpenGroups files open, closing only groups without members", async () => {
    await port
      .registry()
      .create(
        "events",
        { partitions: 1, retentionMs: -1, retentionBytes: -1, maxRecordBytes: 1000 },
        null,
      );
    const a = await joinGroup("a");
    const b = await joinGroup("b");
    unwrap(await port.group("b").commit("b", b.memberId, b.generation, [{ ...topic, offset: 7 }]));
    unwrap(await port.group("b").leave("b", b.memberId, b.generation, []));
    await joinGroup("c");
    // "a" has a member, "b" has none: "b" was closed for "c".
    expect(port.openGroups()).toEqual(["a", "c"]);
    expect(
      readdirSync(join(dataDir, "groups"))
        .filter((f) => f.endsWith(".sqlite"))
        .sort(),
    ).toEqual(["a.sqlite", "b.sqlite", "c.sqlite"]);
    // Opened again from its file, with its committed offset; it can take members again.
    const described = unwrap(await port.group("b").describe("b"));
    expect(described.partitions).toEqual([expect.objectContaining({ ...topic, committed: 7 })]);
    expect(port.openGroups()).toEqual(["a", "c", "b"]);
    expect((await joinGroup("b")).assignment).toEqual([{ ...topic, offset: 7 }]);
    expect(a.memberId).toBeTruthy();
  });
});
