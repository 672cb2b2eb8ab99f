/**
 * The core's topic store and lookup (the registry of the Node host, same schema as the
 * Durable Object registry): create outcomes, quotas (PROTOCOL.md §15.6), auto-create and
 * the broker's own metrics topic (§14), over better-sqlite3.
 */
import { describe, expect, it } from "vitest";
import { METRICS_CONFIG, METRICS_TOPIC } from "../src/core/system-topics.ts";
import { checkPartition, lookup, TopicStore } from "../src/core/topic-store.ts";
import { openSqlite } from "../src/node/sqlite.ts";

const config = { partitions: 2, retentionMs: -1, retentionBytes: -1, maxRecordBytes: 1000 };
const quotas = { maxTopics: 2, maxPartitions: 5, maxSiteKeys: 1, maxGroups: 1 };
const store = () => new TopicStore(openSqlite(":memory:"), () => 7);

describe("topic store", () => {
  it("says created, exists or conflict, and keeps the config", () => {
    const s = store();
    expect(s.create("a", config, quotas)).toMatchObject({ status: "created" });
    expect(s.create("a", config, quotas)).toMatchObject({ status: "exists" });
    expect(s.create("a", { ...config, partitions: 3 }, quotas)).toMatchObject({
      status: "conflict",
      topic: { partitions: 2 },
    });
    expect(s.get("a")).toEqual({ name: "a", ...config, createdAt: 7 });
  });

  it("refuses a topic past the topic or partition quota, with the variable to change", () => {
    const s = store();
    s.create("a", config, quotas);
    expect(s.create("b", { ...config, partitions: 4 }, quotas)).toMatchObject({
      status: "limit",
      message: expect.stringContaining("KAITEN_MAX_PARTITIONS"),
    });
    s.create("b", config, quotas);
    expect(s.create("c", config, quotas)).toMatchObject({
      status: "limit",
      message: expect.stringContaining("KAITEN_MAX_TOPICS"),
    });
    expect(() => s.ensure("c", config, quotas)).toThrow(/KAITEN_MAX_TOPICS/);
  });

  it("auto-creates only when asked and allowed, and always has the metrics topic", () => {
    const s = store();
    const off = { autoCreate: false, defaults: config, quotas };
    expect(() => lookup(s, "x", true, off)).toThrow(/does not exist/);
    expect(lookup(s, METRICS_TOPIC, false, off)).toMatchObject(METRICS_CONFIG);
    const on = { ...off, autoCreate: true };
    expect(() => lookup(s, "x", false, on)).toThrow(/does not exist/);
    const x = lookup(s, "x", true, on);
    expect(x.partitions).toBe(2);
    expect(() => checkPartition(x, 2)).toThrow(/partitions 0..1/);
    expect(() => lookup(s, "bad name", true, on)).toThrow(/topic names/);
  });
});
