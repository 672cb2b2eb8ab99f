/**
 * The Node host's BrokerPort (edge/src/core/port.ts): what the core HTTP API reaches, from
 * in-process owners instead of Durable Object stubs. Each owner keeps the single-writer
 * semantics of its object: everything runs on the one JavaScript thread, and an owner's
 * synchronous SQLite work is never interleaved with another call to the same owner.
 *
 * Files under the data directory:
 *   registry.sqlite                  topics, site keys, group names (the TopicRegistry object)
 *   logs/{topic}/{partition}.sqlite  one partition's log and stream row (a PartitionObject)
 *   groups/{name}.sqlite             one consumer group (a GroupObject), at most
 *                                    MAX_OPEN_GROUPS open at once, idle ones closed
 *
 * TEMPORARY (until the `services` branch lands): the registry, partition and site-key ports
 * below are thin copies of the Durable Objects' methods over the same core pieces; groups
 * answer INTERNAL. They are replaced by the shared core services so that both hosts run the
 * same code.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { KaitenError } from "@kaiten/protocol";
import type { Quotas } from "../core/auth/settings.ts";
import { type Admission, admit, type Bucket, type SiteKey } from "../core/auth/site-keys.ts";
import type {
  Admitted,
  BrokerPort,
  BrokerSettings,
  GroupPort,
  PartitionPort,
  PartitionRef,
  RegistryPort,
  RpcResult,
  SiteKeyPort,
} from "../core/port.ts";
import { rpcError } from "../core/port.ts";
import { TopicStore } from "../core/topic-store.ts";
import type { TopicConfig } from "../core/types.ts";
import type { PartitionOwner, Partitions } from "./partitions.ts";
import { type NodeSql, openSqlite, type Synchronous } from "./sqlite.ts";

/** Group files open at once; the least recently used idle one is closed past it. */
export const MAX_OPEN_GROUPS = 1_000;

export interface NodePortOptions {
  dataDir: string;
  settings: BrokerSettings;
  partitions: Partitions;
  synchronous: Synchronous;
}

export interface NodePort extends BrokerPort {
  /** The registry's database (the WebSocket upgrade path reads topics from it too). */
  readonly registryDb: NodeSql;
  /** Closes every file (after the partitions were flushed). */
  close(): void;
}

export function nodePort(options: NodePortOptions): NodePort {
  mkdirSync(join(options.dataDir, "groups"), { recursive: true });
  const registryDb = openSqlite(join(options.dataDir, "registry.sqlite"), {
    synchronous: options.synchronous,
  });
  const registry = new NodeRegistry(registryDb);
  const siteKeys = new Map<string, NodeSiteKey>();
  const groups = new GroupFiles(join(options.dataDir, "groups"), options.synchronous);
  return {
    settings: options.settings,
    registryDb,
    registry: () => registry,
    partition: (topic, index) => partitionPort(options.partitions, topic, index),
    siteKey: (id) => {
      let key = siteKeys.get(id);
      if (!key) {
        key = new NodeSiteKey(registry, id);
        siteKeys.set(id, key);
      }
      return key;
    },
    group: (name) => groups.port(name),
    close: () => {
      groups.closeAll();
      registryDb.close();
    },
  };
}

/** Answers as an RPC does: errors as data, never thrown (port.ts). */
async function rpc<T>(owner: PartitionOwner | null, fn: () => T | Promise<T>) {
  try {
    return { ok: true, value: await fn() } as RpcResult<T>;
  } catch (error) {
    if (!(error instanceof KaitenError)) owner?.logError("call failed", error);
    return { ok: false, error: rpcError(error) } as RpcResult<T>;
  }
}

/** A partition's port: its owner, opened on first use with the topic's config. */
function partitionPort(partitions: Partitions, topic: string, index: number): PartitionPort {
  const owner = (ref: PartitionRef) => partitions.get(ref.topic, ref.partition, ref.config);
  return {
    append: (input) => {
      const o = owner(input);
      return rpc(o, () => {
        o.refuseIfClosed();
        return o.partition.append(input);
      });
    },
    waitForCommit: (input) => {
      const o = owner(input);
      return rpc(o, async () => ({
        outcome: await o.waiters.wait(input.after, o.partition.log.state.highWatermark, input.ms),
      }));
    },
    stream: (ref, op, adopt = false) => {
      const o = owner(ref);
      return rpc(o, () => o.streams().run(op, adopt));
    },
    read: (input) => {
      const o = owner(input);
      return rpc(o, () => o.partition.read(input));
    },
    info: (ref) => {
      const o = owner(ref);
      return rpc(o, () => o.info());
    },
    destroy: async () => partitions.deletePartition(topic, index),
  };
}

/** The registry: the core's TopicStore and the site-key and group-name tables. */
class NodeRegistry implements RegistryPort {
  private readonly topics: TopicStore;

  constructor(private readonly sql: NodeSql) {
    this.topics = new TopicStore(sql, Date.now);
    sql.exec(`CREATE TABLE IF NOT EXISTS site_keys (
      id TEXT PRIMARY KEY, key TEXT NOT NULL, spec TEXT NOT NULL, created_at INTEGER NOT NULL)`);
    sql.exec(
      "CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
    );
  }

  async get(name: string) {
    return this.topics.get(name);
  }
  async list() {
    return this.topics.list();
  }
  async create(name: string, config: TopicConfig, quotas: Quotas | null) {
    return this.topics.create(name, config, quotas);
  }
  async ensure(name: string, defaults: TopicConfig, quotas: Quotas | null) {
    return this.topics.create(name, defaults, quotas);
  }
  async remove(name: string) {
    return this.topics.remove(name);
  }

  async addSiteKey(site: SiteKey, max: number): Promise<Admitted> {
    const n = Number(this.sql.all("SELECT count(*) AS n FROM site_keys")[0]?.n ?? 0);
    if (n >= max)
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
  }

  async listSiteKeys(): Promise<SiteKey[]> {
    return this.sql.all("SELECT * FROM site_keys ORDER BY created_at, id").map((row) => ({
      id: String(row.id),
      key: String(row.key),
      ...JSON.parse(String(row.spec)),
      createdAt: Number(row.created_at),
    }));
  }

  async removeSiteKey(id: string): Promise<boolean> {
    return this.sql.run("DELETE FROM site_keys WHERE id = ?", id) > 0;
  }

  async addGroup(name: string, max: number): Promise<Admitted> {
    if (this.sql.all("SELECT 1 FROM groups WHERE name = ?", name).length > 0) return { ok: true };
    const n = Number(this.sql.all("SELECT count(*) AS n FROM groups")[0]?.n ?? 0);
    if (n >= max)
      return {
        ok: false,
        message: `this broker holds at most ${max} consumer groups (KAITEN_MAX_GROUPS)`,
      };
    this.sql.run("INSERT INTO groups VALUES (?, ?)", name, Date.now());
    return { ok: true };
  }

  async listGroups(): Promise<string[]> {
    return this.sql.all("SELECT name FROM groups ORDER BY name").map((r) => String(r.name));
  }

  async removeGroup(name: string): Promise<void> {
    this.sql.run("DELETE FROM groups WHERE name = ?", name);
  }

  /** The stored key with this id (a site key's own state on Cloudflare lives in its object). */
  siteKey(id: string): SiteKey | null {
    const row = this.sql.all("SELECT * FROM site_keys WHERE id = ?", id)[0];
    if (!row) return null;
    return {
      id: String(row.id),
      key: String(row.key),
      ...JSON.parse(String(row.spec)),
      createdAt: Number(row.created_at),
    };
  }
}

/**
 * One site key's rate-limit bucket (PROTOCOL.md §15.5), in memory as on Cloudflare: after a
 * restart the key starts again with a full burst.
 */
class NodeSiteKey implements SiteKeyPort {
  private site: SiteKey | null;
  private bucket: Bucket = { tokens: 0, at: 0 };

  constructor(registry: NodeRegistry, id: string) {
    this.site = registry.siteKey(id);
    if (this.site) this.bucket = { tokens: this.site.burst, at: Date.now() };
  }

  async configure(site: SiteKey): Promise<void> {
    this.site = site;
    this.bucket = { tokens: site.burst, at: Date.now() };
  }

  async revoke(): Promise<void> {
    this.site = null;
  }

  async admit(a: Admission): Promise<RpcResult<null>> {
    return rpc(null, () => {
      admit(this.site, this.bucket, a, Date.now());
      return null;
    });
  }
}

/**
 * Consumer groups' files, each opened on first use; past MAX_OPEN_GROUPS the least recently
 * used group without members is closed (it opens again from its file when next asked).
 */
class GroupFiles {
  private readonly open = new Map<string, NodeSql>();

  constructor(
    private readonly dir: string,
    private readonly synchronous: Synchronous,
  ) {}

  port(name: string): GroupPort {
    const refuse = async (): Promise<RpcResult<never>> => ({
      ok: false,
      error: rpcError(
        new KaitenError("INTERNAL", `consumer group ${name}: not yet on the Node host`),
      ),
    });
    return {
      join: refuse,
      heartbeat: refuse,
      commit: refuse,
      leave: refuse,
      resetOffsets: refuse,
      describe: refuse,
      destroy: refuse,
    };
  }

  /** The group's database, most recently used last; closes the oldest past the cap. */
  db(name: string): NodeSql {
    let db = this.open.get(name);
    if (db) {
      this.open.delete(name);
    } else {
      // Group names are checked by the HTTP API ([A-Za-z0-9._-], never "." or ".."): safe
      // as a file name.
      db = openSqlite(join(this.dir, `${name}.sqlite`), { synchronous: this.synchronous });
    }
    this.open.set(name, db);
    for (const [oldest, file] of this.open) {
      if (this.open.size <= MAX_OPEN_GROUPS) break;
      file.close();
      this.open.delete(oldest);
    }
    return db;
  }

  closeAll(): void {
    for (const db of this.open.values()) db.close();
    this.open.clear();
  }
}
