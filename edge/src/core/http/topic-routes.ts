/**
 * Topics over HTTP (docs/PROTOCOL.md §11): create, describe, delete, produce JSON records and
 * read pages of them.
 */
import {
  decodeChunk,
  encodeBatch,
  KaitenError,
  Limits,
  partitionForKey,
  type WireRecord,
} from "@kaiten/protocol";
import { unwrap } from "../port.ts";
import { refOf } from "../topic-ref.ts";
import type { TopicConfig } from "../types.ts";
import type { HttpContext } from "./context.ts";
import { bad, errorBody, json, optionalInt, readJson } from "./json.ts";
import { toJsonRecord, toWireRecord } from "./json-records.ts";
import { checkPartition, checkTopicName, forget, lookupTopic, remember } from "./topic-cache.ts";
import type { WebRequest, WebResponse, WebURL } from "./web.ts";

/** Most records one GET returns. Default limit: 100. */
export const MAX_READ_RECORDS = 1_000;
const READ_BYTES = 1_048_576;
const utf8 = new TextEncoder();

export async function createTopic(request: WebRequest, ctx: HttpContext): Promise<WebResponse> {
  const body = await readJson(request);
  if (typeof body.name !== "string") throw bad("name must be a string");
  checkTopicName(body.name);
  const d = ctx.port.settings.topicDefaults;
  const config: TopicConfig = {
    partitions: optionalInt(body, "partitions", 1, Limits.maxPartitions, d.partitions),
    retentionMs: optionalInt(body, "retentionMs", -1, Number.MAX_SAFE_INTEGER, d.retentionMs),
    retentionBytes: optionalInt(
      body,
      "retentionBytes",
      -1,
      Number.MAX_SAFE_INTEGER,
      d.retentionBytes,
    ),
    maxRecordBytes: optionalInt(body, "maxRecordBytes", 1, Limits.maxRecordBytes, d.maxRecordBytes),
  };
  const outcome = await ctx.port
    .registry()
    .create(body.name, config, ctx.port.settings.auth.limits);
  if (outcome.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", outcome.message);
  if (outcome.status === "conflict") {
    const e = new KaitenError(
      "TOPIC_EXISTS",
      `topic "${body.name}" exists with a different config`,
    );
    return json({ error: { ...errorBody(e), topic: outcome.topic } }, 409);
  }
  remember(ctx, outcome.topic);
  return json(outcome.topic, outcome.status === "created" ? 201 : 200);
}

/** `?create=true` creates an unknown topic with the defaults when auto-create is on, as a Kafka metadata request does. */
export async function describeTopic(
  ctx: HttpContext,
  name: string,
  create = false,
): Promise<WebResponse> {
  const topic = await lookupTopic(ctx, name, create);
  const partitions = await Promise.all(
    Array.from({ length: topic.partitions }, async (_, p) => {
      const info = unwrap(await ctx.port.partition(name, p).info(refOf(topic, p)));
      return { partition: p, ...info };
    }),
  );
  const { createdAt, retentionMs, retentionBytes, maxRecordBytes } = topic;
  return json({
    name,
    partitionCount: topic.partitions,
    retentionMs,
    retentionBytes,
    maxRecordBytes,
    createdAt,
    partitions,
  });
}

export async function deleteTopic(ctx: HttpContext, name: string): Promise<WebResponse> {
  checkTopicName(name);
  const topic = await ctx.port.registry().remove(name);
  forget(ctx, name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  await Promise.all(
    Array.from({ length: topic.partitions }, (_, p) => ctx.port.partition(name, p).destroy()),
  );
  return json({ deleted: name });
}

interface ProducerFields {
  producerId: string;
  producerEpoch: number;
  sequence: number;
}

function producerFields(body: Record<string, unknown>): ProducerFields | null {
  if (body.producerId === undefined) return null;
  const id = body.producerId;
  if (typeof id !== "string" || id === "" || utf8.encode(id).length > Limits.maxProducerIdBytes) {
    throw bad(`producerId must be a string of 1 to ${Limits.maxProducerIdBytes} bytes`);
  }
  return {
    producerId: id,
    producerEpoch: optionalInt(body, "producerEpoch", 0, 0xffff_ffff, 0),
    sequence: optionalInt(body, "sequence", 0, 0xffff_ffff, -1),
  };
}

export interface ProduceAccess {
  /** Whether this request may create the topic if it does not exist (PROTOCOL.md §15.2). */
  create: boolean;
  /** For a site key: admits this many records or throws (rate limit, origin, revocation). */
  admit?: (records: number) => Promise<void>;
}

export async function produce(
  request: WebRequest,
  ctx: HttpContext,
  name: string,
  access: ProduceAccess,
): Promise<WebResponse> {
  checkTopicName(name);
  const body = await readJson(request);
  const producer = producerFields(body);
  if (producer && producer.sequence < 0) throw bad("a producerId needs a sequence");
  if (!Array.isArray(body.records) || body.records.length === 0)
    throw bad("records must be a non-empty array");
  if (body.records.length > Limits.maxBatchRecords)
    throw bad(`at most ${Limits.maxBatchRecords} records per request`);
  await access.admit?.(body.records.length);
  const topic = await lookupTopic(ctx, name, access.create);
  const now = ctx.hooks.now();
  const records = body.records.map((r, i) => toWireRecord(r, i, now));
  // `partition`: every record of the request goes there (the SDK's batches over HTTP, §11.2).
  const to = optionalInt(body, "partition", 0, topic.partitions - 1, -1);
  const groups =
    to < 0
      ? groupByPartition(records, topic.partitions, producer, ctx.hooks.random)
      : new Map([[to, records.map((_, i) => i)]]);
  const offsets: Array<{ partition: number; offset: number }> = new Array(records.length);
  await Promise.all(
    [...groups].map(async ([partition, indexes]) => {
      const batch = encodeBatch(indexes.map((i) => records[i] as WireRecord));
      const input = {
        ...refOf(topic, partition),
        batch,
        producerId: "",
        producerEpoch: 0,
        sequence: 0,
        ...producer,
      };
      const ack = unwrap(await ctx.port.partition(name, partition).append(input));
      indexes.forEach((recordIndex, k) => {
        offsets[recordIndex] = { partition, offset: ack.baseOffset + k };
      });
    }),
  );
  return json({ offsets });
}

/**
 * Keyed records go where Kafka's partitioner puts them. A request's keyless records go to
 * one partition: chosen at random, or, for an idempotent producer, from its id and sequence,
 * so a retried request reaches the same partitions and is recognized there.
 */
function groupByPartition(
  records: WireRecord[],
  partitions: number,
  producer: ProducerFields | null,
  random: () => number,
) {
  const keyless = producer
    ? partitionForKey(utf8.encode(`${producer.producerId}:${producer.sequence}`), partitions)
    : Math.floor(random() * partitions);
  const groups = new Map<number, number[]>();
  records.forEach((r, i) => {
    const p = r.key ? partitionForKey(r.key, partitions) : keyless;
    const list = groups.get(p);
    if (list) list.push(i);
    else groups.set(p, [i]);
  });
  return groups;
}

function queryInt(url: WebURL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (raw === "" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new KaitenError(
      name === "offset" ? "INVALID_OFFSET" : "INVALID_REQUEST",
      `${name} must be an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/** One page of a partition's records (§11.3), as a catch-up read answers it (live.ts). */
export interface ReadPage {
  records: ReturnType<typeof toJsonRecord>[];
  nextOffset: number;
  highWatermark: number;
  earliestOffset: number;
  epoch: number;
}

export async function readPage(
  url: WebURL,
  ctx: HttpContext,
  name: string,
  partition: number,
): Promise<ReadPage> {
  const offset = queryInt(url, "offset", 0, Number.MAX_SAFE_INTEGER);
  const timestamp = queryInt(url, "timestamp", 0, Number.MAX_SAFE_INTEGER);
  const limit = queryInt(url, "limit", 1, MAX_READ_RECORDS) ?? 100;
  if (offset !== undefined && timestamp !== undefined)
    throw bad("give offset or timestamp, not both");
  const topic = await lookupTopic(ctx, name, false);
  checkPartition(topic, partition);
  const input = { ...refOf(topic, partition), offset, timestamp, maxBytes: READ_BYTES };
  const r = unwrap(await ctx.port.partition(name, partition).read(input));
  const all = r.chunks.flatMap((c) => decodeChunk(c)).filter((rec) => rec.offset >= r.startOffset);
  const page = all.slice(0, limit);
  const last = page[page.length - 1];
  return {
    records: page.map(toJsonRecord),
    nextOffset: last ? last.offset + 1 : r.startOffset,
    highWatermark: r.highWatermark,
    earliestOffset: r.earliestOffset,
    epoch: r.epoch,
  };
}
