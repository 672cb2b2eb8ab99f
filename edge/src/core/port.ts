/**
 * The broker port: what the host-neutral HTTP API and services need to reach a partition,
 * the topic registry, a site key's bucket and a consumer group. Each host provides one:
 * Cloudflare with Durable Object stubs (whose RPC methods have exactly these signatures), the
 * Node host with in-process owners. Every call answers with errors as data (`RpcResult`):
 * an Error thrown across Durable Object RPC loses its code.
 */
import { KaitenError } from "@kaiten/protocol";
import type { AuthSettings, Quotas } from "./auth/settings.ts";
import type { Admission, SiteKey } from "./auth/site-keys.ts";
import type {
  JoinRequest,
  MemberView,
  PartitionOffset,
  TopicPartition,
} from "./groups/coordinator.ts";
import { asKaitenError, type ReadResult } from "./partition.ts";
import type { AppendResult } from "./partition-log.ts";
import type { StreamAnswer, StreamOp } from "./stream-store.ts";
import type { CreateOutcome, Topic } from "./topic-store.ts";
import type { TopicConfig } from "./types.ts";

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: WireError };

export interface WireError {
  code: KaitenError["code"];
  message: string;
  detail: number;
}

/** An error as data for an RPC answer. */
export function rpcError(error: unknown): WireError {
  const e = asKaitenError(error);
  return { code: e.code, message: e.message, detail: e.detail };
}

/** The value of an answer, or its error thrown as a KaitenError again. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw new KaitenError(result.error.code, result.error.message, result.error.detail);
}

/** Who the partition is and its topic's config, sent with every call. */
export interface PartitionRef {
  topic: string;
  partition: number;
  config: TopicConfig;
}

export interface AppendInput extends PartitionRef {
  batch: Uint8Array;
  producerId: string;
  producerEpoch: number;
  sequence: number;
}

export interface WaitInput extends PartitionRef {
  /** Wait for a record at this offset or later. */
  after: number;
  ms: number;
}

export interface ReadInput extends PartitionRef {
  offset?: number;
  timestamp?: number;
  maxBytes: number;
}

export interface PartitionInfo {
  epoch: number;
  earliestOffset: number;
  highWatermark: number;
  subscribers: number;
  /** Group commits and SQLite rows written since the owner started (for cost figures). */
  commits: number;
  rowsWritten: number;
}

/** One partition's owner (a PartitionObject on Cloudflare, a PartitionOwner on Node). */
export interface PartitionPort {
  append(input: AppendInput): Promise<RpcResult<AppendResult>>;
  /** Resolves once the log holds records at or past `after`, or after `ms`. */
  waitForCommit(input: WaitInput): Promise<RpcResult<{ outcome: string }>>;
  /** One Durable Streams operation on the partition's stream (PROTOCOL.md §18). */
  stream(ref: PartitionRef, op: StreamOp, adopt?: boolean): Promise<RpcResult<StreamAnswer>>;
  read(input: ReadInput): Promise<RpcResult<ReadResult>>;
  info(ref: PartitionRef): Promise<RpcResult<PartitionInfo>>;
  /** Deletes the log and closes every socket: the topic is gone. */
  destroy(): Promise<void>;
}

export type Admitted = { ok: true } | { ok: false; message: string };

/** The deployment's one registry: topics, site keys and group names. */
export interface RegistryPort {
  get(name: string): Promise<Topic | null>;
  list(): Promise<Topic[]>;
  create(name: string, config: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome>;
  ensure(name: string, defaults: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome>;
  remove(name: string): Promise<Topic | null>;
  addSiteKey(site: SiteKey, max: number): Promise<Admitted>;
  listSiteKeys(): Promise<SiteKey[]>;
  removeSiteKey(id: string): Promise<boolean>;
  addGroup(name: string, max: number): Promise<Admitted>;
  listGroups(): Promise<string[]>;
  removeGroup(name: string): Promise<void>;
}

/** One site key's spec and rate-limit bucket (PROTOCOL.md §15.5). */
export interface SiteKeyPort {
  configure(site: SiteKey): Promise<void>;
  revoke(): Promise<void>;
  admit(a: Admission): Promise<RpcResult<null>>;
}

export interface GroupDescription {
  name: string;
  generation: number;
  members: Array<{
    id: string;
    instanceId: string | null;
    topics: string[];
    partitions: TopicPartition[];
  }>;
  partitions: Array<TopicPartition & { member: string | null; committed: number | null }>;
}

/** One consumer group's coordinator (PROTOCOL.md §16). */
export interface GroupPort {
  join(name: string, r: JoinRequest): Promise<RpcResult<MemberView>>;
  heartbeat(
    name: string,
    memberId: string,
    generation: number | undefined,
    commits: PartitionOffset[],
    released: TopicPartition[],
  ): Promise<RpcResult<MemberView>>;
  commit(
    name: string,
    memberId: string,
    generation: number,
    offsets: PartitionOffset[],
  ): Promise<RpcResult<null>>;
  leave(
    name: string,
    memberId: string,
    generation: number | undefined,
    commits: PartitionOffset[],
  ): Promise<RpcResult<null>>;
  resetOffsets(name: string, offsets: PartitionOffset[]): Promise<RpcResult<null>>;
  describe(name: string): Promise<RpcResult<GroupDescription>>;
  destroy(name: string): Promise<RpcResult<null>>;
}

/** The deployment's settings, parsed once (wrangler.toml [vars] and secrets, or env vars). */
export interface BrokerSettings {
  auth: AuthSettings;
  autoCreate: boolean;
  topicDefaults: TopicConfig;
  /** Longest wait of a long-poll read, and between SSE heartbeats, in ms. */
  liveWaitMs: number;
}

/** Everything the HTTP API reaches, as a host provides it. */
export interface BrokerPort {
  settings: BrokerSettings;
  registry(): RegistryPort;
  partition(topic: string, partition: number): PartitionPort;
  siteKey(id: string): SiteKeyPort;
  group(name: string): GroupPort;
}
