/**
 * Topic configs in SQLite over the core's SqlDriver: the registry's table, the same schema as
 * the Durable Object registry's (edge/src/cloudflare/topic-registry.ts), so either host can
 * hold it. The Node host uses it directly; lookups with auto-create and partition checks are
 * in `lookup` below.
 */
import { isValidTopicName, KaitenError } from "@kaiten/protocol";
import type { Quotas } from "./auth/settings.ts";
import type { SqlDriver, SqlRow } from "./sql.ts";
import { METRICS_CONFIG, METRICS_TOPIC } from "./system-topics.ts";
import type { TopicConfig } from "./types.ts";

export interface Topic extends TopicConfig {
  name: string;
  createdAt: number;
}

export type CreateOutcome =
  | { status: "created" | "exists" | "conflict"; topic: Topic }
  /** Creating it would pass a quota; `message` says which. */
  | { status: "limit"; message: string };

export class TopicStore {
  constructor(
    private readonly sql: SqlDriver,
    private readonly now: () => number,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS topics (
      name TEXT PRIMARY KEY,
      partitions INTEGER NOT NULL,
      retention_ms INTEGER NOT NULL,
      retention_bytes INTEGER NOT NULL,
      max_record_bytes INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    )`);
  }

  get(name: string): Topic | null {
    const row = this.sql.all("SELECT * FROM topics WHERE name = ?", name)[0];
    return row ? toTopic(row) : null;
  }

  list(): Topic[] {
    return this.sql.all("SELECT * FROM topics ORDER BY name").map(toTopic);
  }

  /**
   * Creates the topic, or says it exists with the same config, or with a different one, or
   * that creating it would pass a quota (PROTOCOL.md §15.6; null: the broker's own topics).
   */
  create(name: string, config: TopicConfig, quotas: Quotas | null): CreateOutcome {
    const existing = this.get(name);
    if (existing)
      return { status: sameConfig(existing, config) ? "exists" : "conflict", topic: existing };
    const over = quotas && this.overQuota(config.partitions, quotas);
    if (over) return { status: "limit", message: over };
    return { status: "created", topic: this.insert(name, config) };
  }

  /** The topic, created with `defaults` if it does not exist yet; LIMIT_EXCEEDED past a quota. */
  ensure(name: string, defaults: TopicConfig, quotas: Quotas | null): Topic {
    const o = this.create(name, defaults, quotas);
    if (o.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", o.message);
    return o.topic;
  }

  private overQuota(partitions: number, q: Quotas): string | null {
    const row = this.sql.all(
      "SELECT count(*) AS n, coalesce(sum(partitions), 0) AS p FROM topics",
    )[0] as SqlRow;
    if (Number(row.n) + 1 > q.maxTopics)
      return `this broker holds at most ${q.maxTopics} topics (KAITEN_MAX_TOPICS)`;
    if (Number(row.p) + partitions > q.maxPartitions)
      return `this broker holds at most ${q.maxPartitions} partitions in all (KAITEN_MAX_PARTITIONS); ${Number(row.p)} exist`;
    return null;
  }

  remove(name: string): Topic | null {
    const existing = this.get(name);
    if (existing) this.sql.run("DELETE FROM topics WHERE name = ?", name);
    return existing;
  }

  private insert(name: string, c: TopicConfig): Topic {
    const createdAt = this.now();
    this.sql.run(
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

/**
 * The topic's config; created with the defaults when `create` is set (the principal may
 * create it) and auto-create is on. The metrics topic is the broker's own: it gets its own
 * config and exists whether auto-create is on or off (PROTOCOL.md §14).
 */
export function lookup(
  store: TopicStore,
  name: string,
  create: boolean,
  settings: { autoCreate: boolean; defaults: TopicConfig; quotas: Quotas },
): Topic {
  if (!isValidTopicName(name)) {
    throw new KaitenError("INVALID_TOPIC", "topic names are 1 to 249 of A-Z a-z 0-9 . _ -");
  }
  const topic =
    name === METRICS_TOPIC
      ? store.ensure(name, METRICS_CONFIG, null)
      : create && settings.autoCreate
        ? store.ensure(name, settings.defaults, settings.quotas)
        : store.get(name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  return topic;
}

export function checkPartition(topic: Topic, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new KaitenError(
      "INVALID_PARTITION",
      `topic "${topic.name}" has partitions 0..${topic.partitions - 1}`,
    );
  }
}

export function sameConfig(a: TopicConfig, b: TopicConfig): boolean {
  return (
    a.partitions === b.partitions &&
    a.retentionMs === b.retentionMs &&
    a.retentionBytes === b.retentionBytes &&
    a.maxRecordBytes === b.maxRecordBytes
  );
}

function toTopic(row: SqlRow): Topic {
  return {
    name: String(row.name),
    partitions: Number(row.partitions),
    retentionMs: Number(row.retention_ms),
    retentionBytes: Number(row.retention_bytes),
    maxRecordBytes: Number(row.max_record_bytes),
    createdAt: Number(row.created_at),
  };
}
