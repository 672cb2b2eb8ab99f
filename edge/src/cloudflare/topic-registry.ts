/**
 * The Durable Object that holds every topic's config and the list of site keys. One
 * instance per deployment; the Worker caches what it reads for a few seconds, so it is not
 * on the hot path. It enforces the deployment's quotas (PROTOCOL.md §15.6) in one place.
 */
import { DurableObject } from "cloudflare:workers";
import type { Quotas } from "../core/auth/settings.ts";
import type { SiteKey, SiteKeySpec } from "../core/auth/site-keys.ts";
import type { TopicConfig } from "../core/types.ts";
import type { Env } from "./env.ts";

export interface Topic extends TopicConfig {
  name: string;
  createdAt: number;
}

export type CreateOutcome =
  | { status: "created" | "exists" | "conflict"; topic: Topic }
  /** Creating it would pass a quota; `message` says which. */
  | { status: "limit"; message: string };

/** Quotas do not apply to the broker's own topics (the metrics stream). */
export const SYSTEM: Quotas | null = null;

export class TopicRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS topics (
      name TEXT PRIMARY KEY,
      partitions INTEGER NOT NULL,
      retention_ms INTEGER NOT NULL,
      retention_bytes INTEGER NOT NULL,
      max_record_bytes INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS site_keys (
      id TEXT PRIMARY KEY,
      key TEXT NOT NULL,
      spec TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
    );
  }

  /** Records a consumer group's name (for GET /v1/groups), unless there are `max` already. */
  async addGroup(
    name: string,
    max: number,
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM groups WHERE name = ?", name).toArray().length > 0)
      return { ok: true };
    if (Number(sql.exec("SELECT count(*) AS n FROM groups").one().n) >= max)
      return {
        ok: false,
        message: `this broker holds at most ${max} consumer groups (KAITEN_MAX_GROUPS)`,
      };
    sql.exec("INSERT INTO groups VALUES (?, ?)", name, Date.now());
    return { ok: true };
  }

  async listGroups(): Promise<string[]> {
    return this.ctx.storage.sql
      .exec("SELECT name FROM groups ORDER BY name")
      .toArray()
      .map((r) => String(r.name));
  }

  async removeGroup(name: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM groups WHERE name = ?", name);
  }

  async get(name: string): Promise<Topic | null> {
    return this.find(name);
  }

  async list(): Promise<Topic[]> {
    return this.ctx.storage.sql.exec("SELECT * FROM topics ORDER BY name").toArray().map(toTopic);
  }

  /** Creates the topic, or says it exists with the same config, or with a different one. */
  async create(name: string, config: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    const existing = this.find(name);
    if (existing)
      return { status: sameConfig(existing, config) ? "exists" : "conflict", topic: existing };
    const over = quotas && this.overQuota(config.partitions, quotas);
    if (over) return { status: "limit", message: over };
    return { status: "created", topic: this.insert(name, config) };
  }

  /** The topic, created with `defaults` if it does not exist yet. */
  async ensure(name: string, defaults: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.create(name, defaults, quotas);
  }

  private overQuota(partitions: number, q: Quotas): string | null {
    const row = this.ctx.storage.sql
      .exec("SELECT count(*) AS n, coalesce(sum(partitions), 0) AS p FROM topics")
      .one();
    if (Number(row.n) + 1 > q.maxTopics)
      return `this broker holds at most ${q.maxTopics} topics (KAITEN_MAX_TOPICS)`;
    if (Number(row.p) + partitions > q.maxPartitions)
      return `this broker holds at most ${q.maxPartitions} partitions in all (KAITEN_MAX_PARTITIONS); ${Number(row.p)} exist`;
    return null;
  }

  /** Stores a new site key, unless there are `max` already. */
  async addSiteKey(
    site: SiteKey,
    max: number,
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const n = Number(this.ctx.storage.sql.exec("SELECT count(*) AS n FROM site_keys").one().n);
    if (n >= max)
      return {
        ok: false,
        message: `this broker holds at most ${max} site keys (KAITEN_MAX_SITE_KEYS)`,
      };
    const { id, key, createdAt, ...spec } = site;
    this.ctx.storage.sql.exec(
      "INSERT INTO site_keys VALUES (?, ?, ?, ?)",
      id,
      key,
      JSON.stringify(spec),
      createdAt,
    );
    return { ok: true };
  }

  async listSiteKeys(): Promise<SiteKey[]> {
    return this.ctx.storage.sql
      .exec("SELECT * FROM site_keys ORDER BY created_at, id")
      .toArray()
      .map((row) => ({
        id: String(row.id),
        key: String(row.key),
        ...(JSON.parse(String(row.spec)) as SiteKeySpec),
        createdAt: Number(row.created_at),
      }));
  }

  async removeSiteKey(id: string): Promise<boolean> {
    return this.ctx.storage.sql.exec("DELETE FROM site_keys WHERE id = ?", id).rowsWritten > 0;
  }

  async remove(name: string): Promise<Topic | null> {
    const existing = this.find(name);
    if (existing) this.ctx.storage.sql.exec("DELETE FROM topics WHERE name = ?", name);
    return existing;
  }

  private find(name: string): Topic | null {
    const row = this.ctx.storage.sql.exec("SELECT * FROM topics WHERE name = ?", name).toArray()[0];
    return row ? toTopic(row) : null;
  }

  private insert(name: string, c: TopicConfig): Topic {
    const createdAt = Date.now();
    this.ctx.storage.sql.exec(
      "INSERT INTO topics VALUES (?, ?, ?, ?, ?, ?)",
      name,
      c.partitions,
      c.retentionMs,
      c.retentionBytes,
      c.maxRecordBytes,
      createdAt,
    );
    return { name, ...c, createdAt };
  }
}

function sameConfig(a: TopicConfig, b: TopicConfig): boolean {
  return (
    a.partitions === b.partitions &&
    a.retentionMs === b.retentionMs &&
    a.retentionBytes === b.retentionBytes &&
    a.maxRecordBytes === b.maxRecordBytes
  );
}

function toTopic(row: Record<string, SqlStorageValue>): Topic {
  return {
    name: String(row.name),
    partitions: Number(row.partitions),
    retentionMs: Number(row.retention_ms),
    retentionBytes: Number(row.retention_bytes),
    maxRecordBytes: Number(row.max_record_bytes),
    createdAt: Number(row.created_at),
  };
}
