/**
 * The Durable Object that holds every topic's config and the list of site keys. One
 * instance per deployment; the Worker caches what it reads for a few seconds, so it is not
 * on the hot path. It enforces the deployment's quotas (PROTOCOL.md §15.6) in one place.
 */
import { DurableObject } from "cloudflare:workers";
import type { Quotas } from "../core/auth/settings.ts";
import type { SiteKey, SiteKeySpec } from "../core/auth/site-keys.ts";
import { type CreateOutcome, type Topic, TopicStore } from "../core/topic-store.ts";
import type { TopicConfig } from "../core/types.ts";
import { durableObjectSql } from "./do-sql-driver.ts";
import type { Env } from "./env.ts";

export type { CreateOutcome, Topic };

/** Quotas do not apply to the broker's own topics (the metrics stream). */
export const SYSTEM: Quotas | null = null;

export class TopicRegistry extends DurableObject<Env> {
  /** The topics table and its quotas: the core's store, the same one the Node host uses. */
  private readonly topics: TopicStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.topics = new TopicStore(durableObjectSql(ctx.storage), Date.now);
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
    return this.topics.get(name);
  }

  async list(): Promise<Topic[]> {
    return this.topics.list();
  }

  /** Creates the topic, or says it exists with the same config, or with a different one. */
  async create(name: string, config: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.topics.create(name, config, quotas);
  }

  /** The topic, created with `defaults` if it does not exist yet. */
  async ensure(name: string, defaults: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.topics.create(name, defaults, quotas);
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
    return this.topics.remove(name);
  }
}
