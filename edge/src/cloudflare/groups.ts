/**
 * Consumer group routes (docs/PROTOCOL.md §16): administration, and membership over HTTP for
 * clients that hold no socket (a Worker on a Cron Trigger, a Queue consumer). The rules live
 * in the group's object (core/groups/coordinator.ts); this file checks rights, looks up
 * topics, and reads partitions for HTTP fetches.
 */
import { decodeChunk, isValidTopicName, KaitenError } from "@kaiten/protocol";
import { type Principal, requireAdmin, requireRight, rightsOf } from "../core/auth/access.ts";
import { allows } from "../core/auth/rights.ts";
import {
  GroupLimits,
  type JoinRequest,
  type MemberView,
  type PartitionOffset,
  type TopicPartition,
} from "../core/groups/coordinator.ts";
import { auth, type Env, groupStub, partitionStub, registry } from "./env.ts";
import type { GroupDescription } from "./group-object.ts";
import { json, readJson, refOf, unwrap } from "./http.ts";
import { toJsonRecord } from "./json-records.ts";
import { checkPartition, lookupTopic } from "./topics.ts";

const GROUP_PATH =
  /^\/v1\/groups\/([^/]+)(?:\/(offsets|members)(?:\/([^/]+)(?:\/(heartbeat|commit|fetch|leave))?)?)?$/;
/** Most records one HTTP fetch returns. Default: 500 */
const MAX_FETCH_RECORDS = 1_000;
const FETCH_BYTES = 1_048_576;

function bad(message: string): KaitenError {
  return new KaitenError("INVALID_REQUEST", message);
}

export function isGroupPath(path: string): boolean {
  return path === "/v1/groups" || GROUP_PATH.test(path);
}

export async function groupRoute(request: Request, env: Env, who: Principal): Promise<Response> {
  const path = new URL(request.url).pathname;
  const method = request.method;
  if (path === "/v1/groups") {
    if (method !== "GET") throw new KaitenError("INVALID_REQUEST", "method not allowed");
    const rights = rightsOf(who);
    const names = (await registry(env).listGroups()).filter((g) => allows(rights, "group", g));
    return json({ groups: names });
  }
  const m = GROUP_PATH.exec(path) as RegExpExecArray;
  const group = groupName(m[1] as string);
  requireRight(who, "group", group);
  const [section, memberId, action] = [m[2], m[3], m[4]];
  if (!section) {
    if (method === "GET") return describeGroup(env, group);
    if (method === "DELETE") return deleteGroup(env, who, group);
  } else if (section === "offsets" && method === "POST")
    return resetOffsets(request, env, who, group);
  else if (section === "members" && memberId === undefined && method === "POST")
    return join(request, env, who, group);
  else if (section === "members" && memberId !== undefined) {
    if ((action === undefined && method === "DELETE") || (action === "leave" && method === "POST"))
      return leave(request, env, group, memberId);
    if (method === "POST" && action === "heartbeat")
      return heartbeat(request, env, group, memberId);
    if (method === "POST" && action === "commit") return commit(request, env, group, memberId);
    if (method === "POST" && action === "fetch")
      return fetchRecords(request, env, who, group, memberId);
  }
  throw new KaitenError("INVALID_REQUEST", `no ${method} for ${path}`);
}

function groupName(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw bad("the group name is not valid percent-encoding");
  }
  if (!isValidTopicName(name)) throw bad("group names are 1 to 249 of A-Z a-z 0-9 . _ -");
  return name;
}

async function join(request: Request, env: Env, who: Principal, group: string): Promise<Response> {
  const body = await readJson(request);
  const topics = body.topics;
  if (
    !Array.isArray(topics) ||
    topics.length === 0 ||
    topics.length > GroupLimits.maxTopicsPerMember
  )
    throw bad(`topics must be a list of 1 to ${GroupLimits.maxTopicsPerMember} topic names`);
  const partitionsOf: Record<string, number> = {};
  for (const topic of topics) {
    if (typeof topic !== "string") throw bad("topics must be strings");
    requireRight(who, "subscribe", topic);
    partitionsOf[topic] = (await lookupTopic(env, topic, false)).partitions;
  }
  const instanceId = body.instanceId;
  if (
    instanceId !== undefined &&
    (typeof instanceId !== "string" || instanceId.length < 1 || instanceId.length > 128)
  )
    throw bad("instanceId must be a string of 1 to 128 characters");
  const r: JoinRequest = {
    topics: topics as string[],
    instanceId: (instanceId as string | undefined) ?? null,
    sessionTimeoutMs: sessionTimeout(body.sessionTimeoutMs),
    partitionsOf,
  };
  const added = await registry(env).addGroup(group, auth(env).limits.maxGroups);
  if (!added.ok) throw new KaitenError("LIMIT_EXCEEDED", added.message);
  return json(unwrap(await groupStub(env, group).join(group, r)));
}

function sessionTimeout(v: unknown): number {
  if (v === undefined) return GroupLimits.defaultSessionTimeoutMs;
  const { minSessionTimeoutMs: min, maxSessionTimeoutMs: max } = GroupLimits;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw bad(`sessionTimeoutMs must be an integer from ${min} to ${max}`);
  return v;
}

function offsetsOf(v: unknown, field: string): PartitionOffset[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 4_096) throw bad(`${field} must be a list`);
  return v.map((o) => {
    const { topic, partition, offset } = (o ?? {}) as Record<string, unknown>;
    if (
      typeof topic !== "string" ||
      !Number.isInteger(partition) ||
      !Number.isSafeInteger(offset) ||
      (offset as number) < 0
    )
      throw bad(`each of ${field} is {topic, partition, offset}`);
    return { topic, partition: partition as number, offset: offset as number };
  });
}

function partitionsOfBody(v: unknown): TopicPartition[] {
  return offsetsOf(
    Array.isArray(v) ? v.map((p) => ({ ...(p as object), offset: 0 })) : v,
    "released",
  ).map(({ topic, partition }) => ({ topic, partition }));
}

function generationOf(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw bad("generation must be a non-negative integer");
  return v as number;
}

async function bodyOrEmpty(request: Request): Promise<Record<string, unknown>> {
  return request.headers.get("content-length") === "0" || request.body === null
    ? {}
    : readJson(request);
}

async function heartbeat(
  request: Request,
  env: Env,
  group: string,
  memberId: string,
): Promise<Response> {
  const b = await bodyOrEmpty(request);
  const view = await groupStub(env, group).heartbeat(
    group,
    memberId,
    generationOf(b.generation),
    offsetsOf(b.commits, "commits"),
    partitionsOfBody(b.released),
  );
  return json(unwrap(view));
}

async function commit(
  request: Request,
  env: Env,
  group: string,
  memberId: string,
): Promise<Response> {
  const b = await readJson(request);
  const generation = generationOf(b.generation);
  if (generation === undefined) throw bad("a commit carries the member's generation");
  unwrap(
    await groupStub(env, group).commit(
      group,
      memberId,
      generation,
      offsetsOf(b.offsets, "offsets"),
    ),
  );
  return json({ committed: true });
}

async function leave(
  request: Request,
  env: Env,
  group: string,
  memberId: string,
): Promise<Response> {
  const b = await bodyOrEmpty(request);
  unwrap(
    await groupStub(env, group).leave(
      group,
      memberId,
      generationOf(b.generation),
      offsetsOf(b.commits, "commits"),
    ),
  );
  return json({ left: memberId });
}

/**
 * Records of the member's partitions, from `positions` (or the committed offsets, or the
 * earliest retained): a heartbeat and a read in one call. The member commits what it processed.
 */
async function fetchRecords(
  request: Request,
  env: Env,
  who: Principal,
  group: string,
  memberId: string,
) {
  const b = await bodyOrEmpty(request);
  const max = b.maxRecords === undefined ? 500 : Number(b.maxRecords);
  if (!Number.isInteger(max) || max < 1 || max > MAX_FETCH_RECORDS)
    throw bad(`maxRecords is 1 to ${MAX_FETCH_RECORDS}`);
  const positions = new Map(
    offsetsOf(b.positions, "positions").map((p) => [`${p.topic}/${p.partition}`, p.offset]),
  );
  const view: MemberView = unwrap(
    await groupStub(env, group).heartbeat(
      group,
      memberId,
      generationOf(b.generation),
      [],
      partitionsOfBody(b.released),
    ),
  );
  const revoking = new Set(view.revoke.map((r) => `${r.topic}/${r.partition}`));
  const records: Array<Record<string, unknown>> = [];
  const next: PartitionOffset[] = [];
  for (const a of view.assignment) {
    const k = `${a.topic}/${a.partition}`;
    if (revoking.has(k) || records.length >= max) continue;
    requireRight(who, "subscribe", a.topic);
    const topic = await lookupTopic(env, a.topic, false);
    checkPartition(topic, a.partition);
    const offset = positions.get(k) ?? a.offset ?? undefined;
    const r = unwrap(
      await partitionStub(env, a.topic, a.partition).read({
        ...refOf(topic, a.partition),
        offset,
        maxBytes: FETCH_BYTES,
      }),
    );
    const page = r.chunks
      .flatMap((c) => decodeChunk(c))
      .filter((rec) => rec.offset >= r.startOffset)
      .slice(0, max - records.length);
    for (const rec of page)
      records.push({ topic: a.topic, partition: a.partition, ...toJsonRecord(rec) });
    const last = page[page.length - 1];
    next.push({
      topic: a.topic,
      partition: a.partition,
      offset: last ? last.offset + 1 : r.startOffset,
    });
  }
  return json({
    generation: view.generation,
    assignment: view.assignment,
    revoke: view.revoke,
    records,
    positions: next,
  });
}

async function describeGroup(env: Env, group: string): Promise<Response> {
  const d = unwrap(await groupStub(env, group).describe(group));
  if (d.generation === 0 && d.members.length === 0 && d.partitions.length === 0)
    throw new KaitenError("NOT_FOUND", `no group "${group}"`);
  const { offsets, totalLag } = await groupLag(env, d);
  return json({
    name: group,
    generation: d.generation,
    state: d.members.length > 0 ? "active" : "empty",
    members: d.members,
    offsets,
    totalLag,
  });
}

/**
 * Lag per partition: the high watermark minus the committed offset (or minus the earliest
 * retained offset when nothing is committed). Used by `GET /v1/groups/{g}` and by the
 * group's records in `__metrics` (§14).
 */
export async function groupLag(env: Env, d: GroupDescription) {
  const offsets = await Promise.all(
    d.partitions.map(async (p) => {
      const topic = await lookupTopic(env, p.topic, false).catch(() => null);
      const info = topic
        ? unwrap(await partitionStub(env, p.topic, p.partition).info(refOf(topic, p.partition)))
        : null;
      const highWatermark = info?.highWatermark ?? null;
      const from = p.committed ?? info?.earliestOffset ?? 0;
      const lag = highWatermark === null ? null : Math.max(0, highWatermark - from);
      return { ...p, highWatermark, lag };
    }),
  );
  return { offsets, totalLag: offsets.reduce((sum, o) => sum + (o.lag ?? 0), 0) };
}

async function deleteGroup(env: Env, who: Principal, group: string): Promise<Response> {
  requireAdmin(who);
  unwrap(await groupStub(env, group).destroy(group));
  await registry(env).removeGroup(group);
  return json({ deleted: group });
}

/** Sets the group's committed offsets for a topic: earliest, latest, an offset or a time (§16.5). */
async function resetOffsets(
  request: Request,
  env: Env,
  who: Principal,
  group: string,
): Promise<Response> {
  requireAdmin(who);
  const b = await readJson(request);
  if (typeof b.topic !== "string") throw bad("topic is required");
  const topic = await lookupTopic(env, b.topic, false);
  const to = b.to as unknown;
  const all = Array.from({ length: topic.partitions }, (_, p) => p);
  const partitions = b.partitions === undefined ? all : (b.partitions as number[]);
  if (!Array.isArray(partitions)) throw bad("partitions must be a list");
  const offsets: PartitionOffset[] = [];
  for (const p of partitions) {
    checkPartition(topic, p);
    const stub = partitionStub(env, topic.name, p);
    let offset: number;
    if (to === "earliest" || to === "latest") {
      const info = unwrap(await stub.info(refOf(topic, p)));
      offset = to === "earliest" ? info.earliestOffset : info.highWatermark;
    } else if (
      typeof to === "object" &&
      to !== null &&
      Number.isSafeInteger((to as { offset?: number }).offset)
    ) {
      offset = (to as { offset: number }).offset;
    } else if (
      typeof to === "object" &&
      to !== null &&
      Number.isSafeInteger((to as { timestamp?: number }).timestamp)
    ) {
      const r = unwrap(
        await stub.read({
          ...refOf(topic, p),
          timestamp: (to as { timestamp: number }).timestamp,
          maxBytes: 1,
        }),
      );
      offset = r.startOffset;
    } else throw bad('to is "earliest", "latest", {offset} or {timestamp}');
    offsets.push({ topic: topic.name, partition: p, offset });
  }
  unwrap(await groupStub(env, group).resetOffsets(group, offsets));
  return json({ group, offsets });
}
