/**
 * The deployment's one registry (RegistryPort): topics (the TopicStore), site keys and
 * consumer group names, in three SQLite tables. The Cloudflare host wraps it in the
 * TopicRegistry Durable Object; the Node host runs it in-process over its own SQLite file.
 * The schema is the one the Durable Object has always written, so existing data stays
 * readable. It enforces the deployment's quotas (PROTOCOL.md §15.6) in one place.
 *
 * RegistryPort answers values, not RpcResult: a refusal is a KaitenError thrown to the caller
 * (as before the service). An unexpected failure is logged here first, naming the call.
 */
import { KaitenError } from "@kaiten/protocol";
import type { Quotas } from "./auth/settings.ts";
import type { SiteKey, SiteKeySpec } from "./auth/site-keys.ts";
import type { Admitted, RegistryPort } from "./port.ts";
import type { SqlDriver } from "./sql.ts";
import { type CreateOutcome, type Topic, TopicStore } from "./topic-store.ts";
import type { Log, TopicConfig } from "./types.ts";

/** Quotas do not apply to the broker's own topics (the metrics stream). */
export const SYSTEM: Quotas | null = null;

export class RegistryService implements RegistryPort {
  private readonly topics: TopicStore;

  constructor(
    private readonly sql: SqlDriver,
    private readonly now: () => number,
    /** Where log lines go (console.error). */
    private readonly log: Log,
  ) {
    this.topics = new TopicStore(sql, now);
    sql.exec(`CREATE TABLE IF NOT EXISTS site_keys (
      id TEXT PRIMARY KEY,
      key TEXT NOT NULL,
      spec TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    sql.exec(
      "CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
    );
  }

  async get(name: string): Promise<Topic | null> {
    return this.guard(`get "${name}"`, () => this.topics.get(name));
  }

  async list(): Promise<Topic[]> {
    return this.guard("list", () => this.topics.list());
  }

  /** Creates the topic, or says it exists with the same config, or with a different one. */
  async create(name: string, config: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.guard(`create "${name}"`, () => this.topics.create(name, config, quotas));
  }

  /** The topic, created with `defaults` if it does not exist yet. */
  async ensure(name: string, defaults: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.guard(`ensure "${name}"`, () => this.topics.create(name, defaults, quotas));
  }

  async remove(name: string): Promise<Topic | null> {
    return this.guard(`remove "${name}"`, () => this.topics.remove(name));
  }

  /** Stores a new site key, unless there are `max` already. */
  async addSiteKey(site: SiteKey, max: number): Promise<Admitted> {
    return this.guard<Admitted>(`addSiteKey ${site.id}`, () => {
      if (this.count("site_keys") >= max)
        return {
          ok: false,
          message: `this broker holds at most ${max} site keys (KAITEN_MAX_SITE_KEYS)`,
        };
      const { id, key, createdAt, ...spec } = site;
      this.sql.run(
        "INSERT INTO site_keys VALUES (?, ?, ?, ?)",
        id,
        key,
        JSON.stringify(spec),
        createdAt,
      );
      return { ok: true };
    });
  }

  async listSiteKeys(): Promise<SiteKey[]> {
    return this.guard("listSiteKeys", () =>
      this.sql.all("SELECT * FROM site_keys ORDER BY created_at, id").map((row) => ({
        id: String(row.id),
        key: String(row.key),
        ...(JSON.parse(String(row.spec)) as SiteKeySpec),
        createdAt: Number(row.created_at),
      })),
    );
  }

  async removeSiteKey(id: string): Promise<boolean> {
    return this.guard(
      `removeSiteKey ${id}`,
      () => this.sql.run("DELETE FROM site_keys WHERE id = ?", id) > 0,
    );
  }

  /** Records a consumer group's name (for GET /v1/groups), unless there are `max` already. */
  async addGroup(name: string, max: number): Promise<Admitted> {
    return this.guard<Admitted>(`addGroup "${name}"`, () => {
      if (this.sql.all("SELECT 1 FROM groups WHERE name = ?", name).length > 0) return { ok: true };
      if (this.count("groups") >= max)
        return {
          ok: false,
          message: `this broker holds at most ${max} consumer groups (KAITEN_MAX_GROUPS)`,
        };
      this.sql.run("INSERT INTO groups VALUES (?, ?)", name, this.now());
      return { ok: true };
    });
  }

  async listGroups(): Promise<string[]> {
    return this.guard("listGroups", () =>
      this.sql.all("SELECT name FROM groups ORDER BY name").map((r) => String(r.name)),
    );
  }

  async removeGroup(name: string): Promise<void> {
    return this.guard(`removeGroup "${name}"`, () => {
      this.sql.run("DELETE FROM groups WHERE name = ?", name);
    });
  }

  /** Runs one call; an unexpected failure is logged before it reaches the caller. */
  private async guard<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof KaitenError)) this.log(`[kaiten:registry] ${what} failed`, error);
      throw error;
    }
  }

  private count(table: "site_keys" | "groups"): number {
    return Number(this.sql.all(`SELECT count(*) AS n FROM ${table}`)[0]?.n ?? 0);
  }
}
