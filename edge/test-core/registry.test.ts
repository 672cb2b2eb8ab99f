/**
 * The core's RegistryService (RegistryPort): topics, site keys and group names over SQLite,
 * in the schema the TopicRegistry Durable Object has always written (PROTOCOL.md §15.5, §15.6,
 * §16), over better-sqlite3.
 */
import { describe, expect, it } from "vitest";
import type { SiteKey } from "../src/core/auth/site-keys.ts";
import { RegistryService } from "../src/core/registry.ts";
import { openSqlite } from "../src/node/sqlite.ts";
import { logSink } from "./fakes.ts";

const config = { partitions: 2, retentionMs: -1, retentionBytes: -1, maxRecordBytes: 1000 };
const spec = { origins: ["https://a.example"], topics: ["clicks"], recordsPerSecond: 10, burst: 5 };
const site = (id: string, createdAt: number): SiteKey => ({
  id,
  key: `pk_${id}_${"x".repeat(24)}`,
  createdAt,
  ...spec,
});

describe("registry service", () => {
  it("creates, lists and removes topics through the topic store", async () => {
    const r = new RegistryService(openSqlite(":memory:"), () => 7, logSink().log);
    expect(await r.create("a", config, null)).toMatchObject({ status: "created" });
    expect(await r.ensure("a", config, null)).toMatchObject({ status: "exists" });
    expect(await r.list()).toEqual([{ name: "a", ...config, createdAt: 7 }]);
    expect(await r.remove("a")).toMatchObject({ name: "a" });
    expect(await r.get("a")).toBeNull();
  });

  it("keeps site keys in creation order and refuses one past the quota, naming the variable", async () => {
    const r = new RegistryService(openSqlite(":memory:"), () => 0, logSink().log);
    expect(await r.addSiteKey(site("bbbbbbbbbbbb", 2), 2)).toEqual({ ok: true });
    expect(await r.addSiteKey(site("aaaaaaaaaaaa", 1), 2)).toEqual({ ok: true });
    expect(await r.addSiteKey(site("cccccccccccc", 3), 2)).toEqual({
      ok: false,
      message: expect.stringContaining("KAITEN_MAX_SITE_KEYS"),
    });
    expect((await r.listSiteKeys()).map((s) => s.id)).toEqual(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]);
    expect((await r.listSiteKeys())[0]).toEqual(site("aaaaaaaaaaaa", 1));
    expect(await r.removeSiteKey("aaaaaaaaaaaa")).toBe(true);
    expect(await r.removeSiteKey("aaaaaaaaaaaa")).toBe(false);
  });

  it("records group names once and refuses a new one past the quota", async () => {
    const r = new RegistryService(openSqlite(":memory:"), () => 0, logSink().log);
    expect(await r.addGroup("g2", 2)).toEqual({ ok: true });
    expect(await r.addGroup("g1", 2)).toEqual({ ok: true });
    expect(await r.addGroup("g1", 2)).toEqual({ ok: true });
    expect(await r.addGroup("g3", 2)).toMatchObject({ ok: false });
    expect(await r.listGroups()).toEqual(["g1", "g2"]);
    await r.removeGroup("g1");
    expect(await r.listGroups()).toEqual(["g2"]);
  });

  it("reads site keys and groups written by the Durable Object's own SQL (same schema)", async () => {
    const sql = openSqlite(":memory:");
    // The tables and rows exactly as cloudflare/topic-registry.ts wrote them before the service.
    sql.exec(
      "CREATE TABLE site_keys (id TEXT PRIMARY KEY, key TEXT NOT NULL, spec TEXT NOT NULL, created_at INTEGER NOT NULL)",
    );
    sql.exec("CREATE TABLE groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL)");
    const old = site("dddddddddddd", 9);
    sql.run(
      "INSERT INTO site_keys VALUES (?, ?, ?, ?)",
      old.id,
      old.key,
      JSON.stringify(spec),
      old.createdAt,
    );
    sql.run("INSERT INTO groups VALUES (?, ?)", "old", 1);
    const r = new RegistryService(sql, () => 0, logSink().log);
    expect(await r.listSiteKeys()).toEqual([old]);
    expect(await r.listGroups()).toEqual(["old"]);
  });

  it("logs an unexpected failure naming the call, and still throws it to the caller", async () => {
    const sql = openSqlite(":memory:");
    const sink = logSink();
    const r = new RegistryService(sql, () => 0, sink.log);
    sql.close();
    await expect(r.get("orders")).rejects.toThrow();
    expect(sink.lines.map((l) => l.line)).toEqual(['[kaiten:registry] get "orders" failed']);
  });
});
