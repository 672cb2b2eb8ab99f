/**
 * Consumer group routes (docs/PROTOCOL.md §16): administration, and membership over HTTP for
 * clients that hold no socket (a Worker on a Cron Trigger, a Queue consumer). The rules live
 * in the group's coordinator (core/groups/coordinator.ts); this file checks rights, looks up
 * topics, and reads partitions for HTTP fetches.
 */
import { decodeChunk, isValidTopicName, KaitenError } from "@kaiten/protocol";
import { type Principal, requireAdmin, requireRight, rightsOf } from "../auth/access.ts";
import { allows } from "../auth/rights.ts";
import {
  GroupLimits,
  type JoinRequest,
  type MemberView,
  type PartitionOffset,
  type TopicPartition,
} from "../groups/coordinator.ts";
import { groupLag } from "../groups/lag.ts";
import { unwrap } from "../port.ts";
import { refOf } from "../topic-ref.ts";
import type { HttpContext } from "./context.ts";
import { json, readJson } from "./json.ts";
import { toJsonRecord } from "./json-records.ts";
import { checkPartition, lookupTopic } from "./topic-cache.ts";
import { URL, type WebRequest, type WebResponse } from "./web.ts";

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

export async function groupRoute(
  request: WebRequest,
  ctx: HttpContext,
  who: Principal,
): Promise<WebResponse> {
  const path = new URL(request.url).pathname;
  const method = request.method;
  if (path === "/v1/groups") {
    if (method !== "GET") throw new KaitenError("INVALID_REQUEST", "method not allowed");
    const rights = rightsOf(who);
    const names = (await ctx.port.registry().listGroups()).filter((g) =>
      allows(rights, "group", g),
    );
    return json({ groups: names });
  }
  const m = GROUP_PATH.exec(path) as RegExpExecArray;
  const group = groupName(m[1] as string);
  requireRight(who, "group", group);
  const [section, memberId, action] = [m[2], m[3], m[4]];
  if (!section) {
    if (method === "GET") return describeGroup(ctx, group);
    if (method === "DELETE") return deleteGroup(ctx, who, group);
  } else if (section === "offsets" && method === "POST")
    return resetOffsets(request, ctx, who, group);
  else if (section === "members" && memberId === undefined && method === "POST")
    return join(request, ctx, who, group);
  else if (section === "members" && memberId !== undefined) {
    if ((action === undefined && method === "DELETE") || (action === "leave" && method === "POST"))
      return leave(request, ctx, group, memberId);
    if (method === "POST" && action === "heartbeat")
      return heartbeat(request, ctx, group, memberId);
    if (method === "POST" && action === "commit") return commit(request, ctx, group, memberId);
    if (method === "POST" && action === "fetch")
      return fetchRecords(request, ctx, who, group, memberId);
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

async function join(
  request: WebRequest,
  ctx: HttpContext,
  who: Principal,
  group: string,
): Promise<WebResponse> {
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
    partitionsOf[topic] = (await lookupTopic(ctx, topic, false)).partitions;
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
  const added = await ctx.port.registry().addGroup(group, ctx.port.settings.auth.limits.maxGroups);
  if (!added.ok) throw new KaitenError("LIMIT_EXCEEDED", added.message);
  return json(unwrap(await ctx.port.group(group).join(group, r)));
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

async function bodyOrEmpty(request: WebRequest): Promise<Record<string, unknown>> {
  return request.headers.get("content-length") === "0" || request.body === null
    ? {}
    : readJson(request);
}

async function heartbeat(
  request: WebRequest,
  ctx: HttpContext,
  group: string,
  memberId: string,
): Promise<WebResponse> {
  const b = await bodyOrEmpty(request);
  const view = await ctx.port
    .group(group)
    .heartbeat(
      group,
      memberId,
      generationOf(b.generation),
      offsetsOf(b.commits, "commits"),
      partitionsOfBody(b.released),
    );
  return json(unwrap(view));
}

async function commit(
  request: WebRequest,
  ctx: HttpContext,
  group: string,
  memberId: string,
): Promise<WebResponse> {
  const b = await readJson(request);
  const generation = generationOf(b.generation);
  if (generation === undefined) throw bad("a commit carries the member's generation");
  unwrap(
    await ctx.port
      .group(group)
      .commit(group, memberId, generation, offsetsOf(b.offsets, "offsets")),
  );
  return json({ committed: true });
}

async function leave(
  request: WebRequest,
  ctx: HttpContext,
  group: string,
  memberId: string,
): Promise<WebResponse> {
  const b = await bodyOrEmpty(request);
  unwrap(
    await ctx.port
      .group(group)
      .leave(group, memberId, generationOf(b.generation), offsetsOf(b.commits, "commits")),
  );
  return json({ left: memberId });
}

/**
 * Records of the member's partitions, from `positions` (or the committed offsets, or the
 * earliest retained): a heartbeat and a read in one call. The member commits what it processed.
 */
async function fetchRecords(
  request: WebRequest,
  ctx: HttpContext,
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
    await ctx.port
      .group(group)
      .heartbeat(group, memberId, generationOf(b.generation), [], partitionsOfBody(b.released)),
  );
  const revoking = new Set(view.revoke.map((r) => `${r.topic}/${r.partition}`));
  const records: Array<Record<string, unknown>> = [];
  const next: PartitionOffset[] = [];
  for (const a of view.assignment) {
    const k = `${a.topic}/${a.partition}`;
    if (revoking.has(k) || records.length >= max) continue;
    requireRight(who, "subscribe", a.topic);
    const topic = await lookupTopic(ctx, a.topic, false);
    checkPartition(topic, a.partition);
    const offset = positions.get(k) ?? a.offset ?? undefined;
    const r = unwrap(
      await ctx.port.partition(a.topic, a.partition).read({
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

async function describeGroup(ctx: HttpContext, group: string): Promise<WebResponse> {
  const d = unwrap(await ctx.port.group(group).describe(group));
  if (d.generation === 0 && d.members.length === 0 && d.partitions.length === 0)
    throw new KaitenError("NOT_FOUND", `no group "${group}"`);
  const { offsets, totalLag } = await groupLag(ctx.port, d, (name) =>
    lookupTopic(ctx, name, false),
  );
  return json({
    name: group,
    generation: d.generation,
    state: d.members.length > 0 ? "active" : "empty",
    members: d.members,
    offsets,
    totalLag,
  });
}

async function deleteGroup(ctx: HttpContext, who: Principal, group: string): Promise<WebResponse> {
  requireAdmin(who);
  unwrap(await ctx.port.group(group).destroy(group));
  await ctx.port.registry().removeGroup(group);
  return json({ deleted: group });
}

/** Sets the group's committed offsets for a topic: earliest, latest, an offset or a time (§16.5). */
async function resetOffsets(
  request: WebRequest,
  ctx: HttpContext,
  who: Principal,
  group: string,
): Promise<WebResponse> {
  requireAdmin(who);
  const b = await readJson(request);
  if (typeof b.topic !== "string") throw bad("topic is required");
  const topic = await lookupTopic(ctx, b.topic, false);
  const to = b.to as unknown;
  const all = Array.from({ length: topic.partitions }, (_, p) => p);
  const partitions = b.partitions === undefined ? all : (b.partitions as number[]);
  if (!Array.isArray(partitions)) throw bad("partitions must be a list");
  const offsets: PartitionOffset[] = [];
  for (const p of partitions) {
    checkPartition(topic, p);
    const stub = ctx.port.partition(topic.name, p);
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
  unwrap(await ctx.port.group(group).resetOffsets(group, offsets));
  return json({ group, offsets });
}
