/**
 * The Durable Object that holds every topic's config. One instance per deployment; the
 * Worker caches what it reads for a few seconds, so it is not on the hot path.
 */
import { DurableObject } from "cloudflare:workers";
import type { TopicConfig } from "../core/types.ts";
import type { Env } from "./env.ts";

export interface Topic extends TopicConfig {
  name: string;
  createdAt: number;
}

export type CreateOutcome = { status: "created" | "exists" | "conflict"; topic: Topic };

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
  }

  async get(name: string): Promise<Topic | null> {
    return this.find(name);
  }

  async list(): Promise<Topic[]> {
    return this.ctx.storage.sql.exec("SELECT * FROM topics ORDER BY name").toArray().map(toTopic);
  }

  /** Creates the topic, or says it exists with the same config, or with a different one. */
  async create(name: string, config: TopicConfig): Promise<CreateOutcome> {
    const existing = this.find(name);
    if (existing)
      return { status: sameConfig(existing, config) ? "exists" : "conflict", topic: existing };
    return { status: "created", topic: this.insert(name, config) };
  }

  /** The topic, created with `defaults` if it does not exist yet. */
  async ensure(name: string, defaults: TopicConfig): Promise<Topic> {
    return this.find(name) ?? this.insert(name, defaults);
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
