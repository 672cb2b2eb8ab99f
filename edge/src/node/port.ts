/**
 * The Node host's BrokerPort (edge/src/core/port.ts): what the core HTTP API reaches, from
 * in-process owners running the core's services instead of Durable Object stubs. Each owner
 * keeps the single-writer semantics of its object: everything runs on the one JavaScript
 * thread, and an owner's synchronous SQLite work is never interleaved with another call.
 *
 * Files under the data directory:
 *   registry.sqlite                  topics, site keys, group names (RegistryService) and
 *                                    each site key's stored spec (SiteKeyBucket's store)
 *   logs/{topic}/{partition}.sqlite  one partition (PartitionService, partitions.ts), at
 *                                    most MAX_OPEN_PARTITIONS open at once, idle ones closed
 *   groups/{name}.sqlite             one consumer group (GroupService), at most
 *                                    MAX_OPEN_GROUPS open at once, idle ones closed
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { isValidTopicName, KaitenError } from "@kaiten/protocol";
import type { SiteKey } from "../core/auth/site-keys.ts";
import { type GroupLagOf, GroupService } from "../core/groups/service.ts";
import { type AppendMetrics, metricsAppender } from "../core/metrics.ts";
import type { PartitionService } from "../core/partition-service.ts";
import {
  type BrokerPort,
  type BrokerSettings,
  type GroupPort,
  type PartitionPort,
  type RegistryPort,
  type RpcResult,
  rpcError,
  type SiteKeyPort,
} from "../core/port.ts";
import { RegistryService } from "../core/registry.ts";
import { SiteKeyBucket } from "../core/site-key-bucket.ts";
import type { Log, TopicConfig } from "../core/types.ts";
import { AlarmTimer } from "./alarm-timer.ts";
import { NODE_TIMERS, Partitions } from "./partitions.ts";
import { type NodeSql, openSqlite, type Synchronous } from "./sqlite.ts";

/** Group files open at once; past it the least recently used group without members closes. */
export const MAX_OPEN_GROUPS = 1_000;
/** Site-key buckets kept; past it the least recently used is dropped (it reloads, full). */
const MAX_SITE_KEY_BUCKETS = 1_000;

export interface NodePortOptions {
  dataDir: string;
  settings: BrokerSettings;
  /** Default: "FULL" (an ack means durable). */
  synchronous?: Synchronous;
  /** How a group's lag is computed (core/groups/lag.ts over this port). */
  groupLag: (port: BrokerPort) => GroupLagOf;
  /** Default: console.error. */
  log?: Log;
  /** Default: MAX_OPEN_GROUPS. */
  maxOpenGroups?: number;
  /** Default: MAX_OPEN_PARTITIONS (partitions.ts). */
  maxOpenPartitions?: number;
}

/** The port, and what the host's WebSocket path and shutdown need besides. */
export class NodePort implements BrokerPort {
  readonly settings: BrokerSettings;
  readonly partitions: Partitions;
  private readonly registryDb: NodeSql;
  private readonly registryService: RegistryService;
  private readonly buckets: SiteKeys;
  private readonly groups: GroupFiles;

  constructor(options: NodePortOptions) {
    const log = options.log ?? console.error;
    const synchronous = options.synchronous ?? "FULL";
    this.settings = options.settings;
    mkdirSync(options.dataDir, { recursive: true });
    // `this` is only captured here: the appender reaches the metrics partition later.
    const metrics = metricsAppender(this, log);
    this.partitions = new Partitions(options.dataDir, {
      synchronous,
      metrics,
      ...(options.maxOpenPartitions !== undefined ? { maxOpen: options.maxOpenPartitions } : {}),
    });
    this.registryDb = openSqlite(join(options.dataDir, "registry.sqlite"), { synchronous });
    this.registryService = new RegistryService(this.registryDb, Date.now, log);
    // Time retention of the partitions stored before this start (their timers died with it).
    this.registryService
      .list()
      .then((topics) => this.partitions.restoreRetention(topics))
      .catch((error) => log("[kaiten:partition] restoring retention alarms failed", error));
    this.buckets = new SiteKeys(this.registryDb, log);
    this.groups = new GroupFiles(join(options.dataDir, "groups"), {
      synchronous,
      log,
      metrics,
      lag: options.groupLag(this),
      maxOpen: options.maxOpenGroups ?? MAX_OPEN_GROUPS,
    });
  }

  registry(): RegistryPort {
    return this.registryService;
  }

  partition(topic: string, partition: number): PartitionPort {
    return partitionPort(this.partitions, topic, partition);
  }

  siteKey(id: string): SiteKeyPort {
    return this.buckets.get(id);
  }

  group(name: string): GroupPort {
    return this.groups.get(name);
  }

  /** The groups whose files are open, least recently used first. */
  openGroups(): string[] {
    return this.groups.names();
  }

  /** Closes every file; the partitions were flushed first (server.ts). */
  close(): void {
    this.partitions.closeAll();
    this.groups.closeAll();
    this.registryDb.close();
  }
}

/**
 * A partition's port: its owner's PartitionService, the owner opened on first use with the
 * config each call carries (as a Durable Object is created by its first call).
 */
function partitionPort(partitions: Partitions, topic: string, index: number): PartitionPort {
  /** Runs `fn` on the owner's service; an owner that cannot open answers as data too. */
  const on = async <T>(
    config: TopicConfig,
    fn: (service: PartitionService) => Promise<RpcResult<T>>,
  ): Promise<RpcResult<T>> => {
    let service: PartitionService;
    try {
      service = partitions.get(topic, index, config).service;
    } catch (error) {
      return { ok: false, error: rpcError(error) };
    }
    return fn(service);
  };
  return {
    append: (input) => on(input.config, (s) => s.append(input)),
    waitForCommit: (input) => on(input.config, (s) => s.waitForCommit(input)),
    stream: (ref, op, adopt) => on(ref.config, (s) => s.stream(ref, op, adopt)),
    read: (input) => on(input.config, (s) => s.read(input)),
    info: (ref) => on(ref.config, (s) => s.info(ref)),
    destroy: () => partitions.deletePartition(topic, index),
  };
}

/**
 * Site keys' buckets (SiteKeyBucket), their specs stored in registry.sqlite as the Durable
 * Object keeps its own; each bucket loads its spec before its first call.
 */
class SiteKeys {
  private readonly buckets = new Map<string, SiteKeyPort>();

  constructor(
    private readonly sql: NodeSql,
    private readonly log: Log,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS site_key_buckets (id TEXT PRIMARY KEY, site TEXT NOT NULL)",
    );
  }

  get(id: string): SiteKeyPort {
    let port = this.buckets.get(id);
    if (port) {
      this.buckets.delete(id);
    } else {
      port = this.open(id);
    }
    this.buckets.set(id, port);
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= MAX_SITE_KEY_BUCKETS) break;
      this.buckets.delete(oldest);
    }
    return port;
  }

  private open(id: string): SiteKeyPort {
    const sql = this.sql;
    const bucket = new SiteKeyBucket(
      {
        get: async () => {
          const row = sql.all("SELECT site FROM site_key_buckets WHERE id = ?", id)[0];
          return row ? (JSON.parse(String(row.site)) as SiteKey) : null;
        },
        put: async (site) => {
          sql.run(
            "INSERT OR REPLACE INTO site_key_buckets VALUES (?, ?)",
            id,
            JSON.stringify(site),
          );
        },
        clear: async () => {
          sql.run("DELETE FROM site_key_buckets WHERE id = ?", id);
        },
      },
      Date.now,
      this.log,
    );
    const loaded = bucket.load();
    return {
      configure: async (site) => {
        await loaded;
        return bucket.configure(site);
      },
      revoke: async () => {
        await loaded;
        return bucket.revoke();
      },
      admit: async (a) => {
        await loaded;
        return bucket.admit(a);
      },
    };
  }
}

interface GroupDeps {
  maxOpen: number;
  synchronous: Synchronous;
  log: Log;
  metrics: AppendMetrics | null;
  lag: GroupLagOf;
}

/** One open group: its file, its service, its session-timeout alarm, its last member count. */
interface OpenGroup {
  db: NodeSql;
  service: GroupService;
  port: GroupPort;
  alarm: AlarmTimer;
  members: number;
}

/**
 * Consumer groups (GroupService), each over its own file, opened on first use. Past
 * MAX_OPEN_GROUPS the least recently used group without members is closed: it has no session
 * to time out, and it opens again from its file when next asked.
 */
class GroupFiles {
  private readonly open = new Map<string, OpenGroup>();

  constructor(
    private readonly dir: string,
    private readonly deps: GroupDeps,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get(name: string): GroupPort {
    let group = this.open.get(name);
    if (group) this.open.delete(name);
    else group = this.openGroup(name);
    this.open.set(name, group);
    this.closeIdle(name);
    return group.port;
  }

  private openGroup(name: string): OpenGroup {
    // The HTTP API checks group names as topic names; checked again here, as they are files.
    if (!isValidTopicName(name)) throw new KaitenError("INVALID_REQUEST", "bad group name");
    const db = openSqlite(join(this.dir, fileName(name)), { synchronous: this.deps.synchronous });
    const group = { db, members: 0 } as unknown as OpenGroup;
    // Never throws; sets the alarm again for the next session to expire.
    group.alarm = new AlarmTimer(() => group.service.fired());
    group.service = new GroupService({
      sql: db,
      now: Date.now,
      newId: randomUUID,
      alarm: { set: (at) => group.alarm.set(at) },
      timers: NODE_TIMERS,
      log: this.deps.log,
      lag: this.deps.lag,
      metrics: this.deps.metrics,
    });
    // A group restored with members and no timer gets one, so their sessions still expire.
    group.service.restore(null);
    group.port = this.counted(group);
    return group;
  }

  /** The service's port, noting after each call how many members the group has. */
  private counted(group: OpenGroup): GroupPort {
    const s = group.service;
    const after = async <T>(result: Promise<T>, name: string): Promise<T> => {
      const value = await result;
      const d = await s.describe(name);
      if (d.ok) group.members = d.value.members.length;
      return value;
    };
    return {
      join: (name, r) => after(s.join(name, r), name),
      heartbeat: (name, id, gen, commits, released) =>
        after(s.heartbeat(name, id, gen, commits, released), name),
      commit: (name, id, gen, offsets) => after(s.commit(name, id, gen, offsets), name),
      leave: (name, id, gen, commits) => after(s.leave(name, id, gen, commits), name),
      resetOffsets: (name, offsets) => after(s.resetOffsets(name, offsets), name),
      describe: (name) => s.describe(name),
      destroy: (name) => after(s.destroy(name), name),
    };
  }

  names(): string[] {
    return [...this.open.keys()];
  }

  /** Closes the least recently used groups without members, never `keep` (being asked). */
  private closeIdle(keep: string): void {
    const max = this.deps.maxOpen;
    if (this.open.size <= max) return;
    for (const [name, group] of this.open) {
      if (this.open.size <= max) return;
      if (group.members > 0 || name === keep) continue;
      this.close(group);
      this.open.delete(name);
    }
  }

  private close(group: OpenGroup): void {
    group.alarm.clear();
    group.db.close();
  }

  closeAll(): void {
    for (const group of this.open.values()) this.close(group);
    this.open.clear();
  }
}

/**
 * `{name}.sqlite`, or for a name too long for a file name (names reach 249 bytes) `~` and its
 * hash: `~` is in no group name, so the two kinds never meet.
 */
function fileName(name: string): string {
  if (name.length <= 200) return `${name}.sqlite`;
  return `~${createHash("sha256").update(name).digest("hex")}.sqlite`;
}
