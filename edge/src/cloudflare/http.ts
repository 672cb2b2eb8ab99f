/** The HTTP API (docs/PROTOCOL.md §11): JSON in and out, errors as documented codes. */
import {
  decodeChunk,
  ErrorCode,
  ErrorInfo,
  encodeBatch,
  KaitenError,
  Limits,
  partitionForKey,
  type WireRecord,
} from "@kaiten/protocol";
import type { TopicConfig } from "../core/types.ts";
import { auth, defaultTopicConfig, type Env, partitionStub, registry } from "./env.ts";
import { toJsonRecord, toWireRecord } from "./json-records.ts";
import type { PartitionRef, RpcResult } from "./partition-object.ts";
import type { Topic } from "./topic-registry.ts";
import { checkPartition, checkTopicName, forget, lookupTopic, remember } from "./topics.ts";

/** Largest HTTP request body, in bytes. */
export const MAX_BODY_BYTES = 1_048_576;
/** Most records one GET returns. Default limit: 100. */
export const MAX_READ_RECORDS = 1_000;
const READ_BYTES = 1_048_576;
const utf8 = new TextEncoder();

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The `error` object of every HTTP error body (PROTOCOL.md §11.6). */
export function errorBody(e: KaitenError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    code: e.code,
    numericCode: ErrorCode[e.code],
    retriable: e.retriable,
    message: e.message,
  };
  if (e.code === "OFFSET_OUT_OF_RANGE") body.earliestOffset = e.detail;
  else if (e.detail) body.detail = e.detail;
  return body;
}

/**
 * An error response: the code's HTTP status, unless the route has a more precise one.
 * THROTTLED carries the wait in ms as its detail, sent as `Retry-After` in whole seconds.
 */
export function errorResponse(e: KaitenError, status = ErrorInfo[e.code].http): Response {
  const response = json({ error: errorBody(e) }, status);
  if (e.code === "THROTTLED")
    response.headers.set("retry-after", String(Math.max(1, Math.ceil(e.detail / 1000))));
  return response;
}

function bad(message: string): KaitenError {
  return new KaitenError("INVALID_REQUEST", message);
}

/** Reads a JSON body (sent as application/json or as text/plain, as sendBeacon does). */
export async function readJson(request: Request): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new KaitenError("FRAME_TOO_LARGE", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  // Counted in bytes: a body without content-length (streamed) can hold up to 3 bytes per
  // character, and text.length counts characters.
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES)
    throw new KaitenError("FRAME_TOO_LARGE", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw bad("the body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw bad("the body must be a JSON object");
  return body as Record<string, unknown>;
}

function optionalInt(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const v = body[field];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}`);
  }
  return v;
}

export async function createTopic(request: Request, env: Env): Promise<Response> {
  const body = await readJson(request);
  if (typeof body.name !== "string") throw bad("name must be a string");
  checkTopicName(body.name);
  const d = defaultTopicConfig(env);
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
  const outcome = await registry(env).create(body.name, config, auth(env).limits);
  if (outcome.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", outcome.message);
  if (outcome.status === "conflict") {
    const e = new KaitenError(
      "TOPIC_EXISTS",
      `topic "${body.name}" exists with a different config`,
    );
    return json({ error: { ...errorBody(e), topic: outcome.topic } }, 409);
  }
  remember(outcome.topic);
  return json(outcome.topic, outcome.status === "created" ? 201 : 200);
}

/** The topics `visible` lets the caller see (those its rights name; all for admin). */
export async function listTopics(env: Env, visible: (name: string) => boolean): Promise<Response> {
  return json({ topics: (await registry(env).list()).filter((t) => visible(t.name)) });
}

/** `?create=true` creates an unknown topic with the defaults when auto-create is on, as a Kafka metadata request does. */
export async function describeTopic(env: Env, name: string, create = false): Promise<Response> {
  const topic = await lookupTopic(env, name, create);
  const partitions = await Promise.all(
    Array.from({ length: topic.partitions }, async (_, p) => {
      const info = unwrap(await partitionStub(env, name, p).info(refOf(topic, p)));
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

export async function deleteTopic(env: Env, name: string): Promise<Response> {
  checkTopicName(name);
  const topic = await registry(env).remove(name);
  forget(name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  await Promise.all(
    Array.from({ length: topic.partitions }, (_, p) => partitionStub(env, name, p).destroy()),
  );
  return json({ deleted: name });
}

/** What a partition object is told with every call: who it is and its topic's config. */
export function refOf(t: Topic, partition: number): PartitionRef {
  return { topic: t.name, partition, config: configOf(t) };
}

export function configOf(t: Topic): TopicConfig {
  return {
    partitions: t.partitions,
    retentionMs: t.retentionMs,
    retentionBytes: t.retentionBytes,
    maxRecordBytes: t.maxRecordBytes,
  };
}

export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw new KaitenError(result.error.code, result.error.message, result.error.detail);
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
  request: Request,
  env: Env,
  name: string,
  access: ProduceAccess,
): Promise<Response> {
  checkTopicName(name);
  const body = await readJson(request);
  const producer = producerFields(body);
  if (producer && producer.sequence < 0) throw bad("a producerId needs a sequence");
  if (!Array.isArray(body.records) || body.records.length === 0)
    throw bad("records must be a non-empty array");
  if (body.records.length > Limits.maxBatchRecords)
    throw bad(`at most ${Limits.maxBatchRecords} records per request`);
  await access.admit?.(body.records.length);
  const topic = await lookupTopic(env, name, access.create);
  const now = Date.now();
  const records = body.records.map((r, i) => toWireRecord(r, i, now));
  // `partition`: every record of the request goes there (the SDK's batches over HTTP, §11.2).
  const to = optionalInt(body, "partition", 0, topic.partitions - 1, -1);
  const groups =
    to < 0
      ? groupByPartition(records, topic.partitions, producer)
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
      const ack = unwrap(await partitionStub(env, name, partition).append(input));
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
) {
  const keyless = producer
    ? partitionForKey(utf8.encode(`${producer.producerId}:${producer.sequence}`), partitions)
    : Math.floor(Math.random() * partitions);
  const groups = new Map<number, number[]>();
  records.forEach((r, i) => {
    const p = r.key ? partitionForKey(r.key, partitions) : keyless;
    const list = groups.get(p);
    if (list) list.push(i);
    else groups.set(p, [i]);
  });
  return groups;
}

function queryInt(url: URL, name: string, min: number, max: number): number | undefined {
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

export async function readRecords(
  url: URL,
  env: Env,
  name: string,
  partition: number,
): Promise<Response> {
  return json(await readPage(url, env, name, partition));
}

/** One page of a partition's records (§11.3), as `readRecords` answers it. */
export interface ReadPage {
  records: ReturnType<typeof toJsonRecord>[];
  nextOffset: number;
  highWatermark: number;
  earliestOffset: number;
  epoch: number;
}

export async function readPage(
  url: URL,
  env: Env,
  name: string,
  partition: number,
): Promise<ReadPage> {
  const offset = queryInt(url, "offset", 0, Number.MAX_SAFE_INTEGER);
  const timestamp = queryInt(url, "timestamp", 0, Number.MAX_SAFE_INTEGER);
  const limit = queryInt(url, "limit", 1, MAX_READ_RECORDS) ?? 100;
  if (offset !== undefined && timestamp !== undefined)
    throw bad("give offset or timestamp, not both");
  const topic = await lookupTopic(env, name, false);
  checkPartition(topic, partition);
  const input = { ...refOf(topic, partition), offset, timestamp, maxBytes: READ_BYTES };
  const r = unwrap(await partitionStub(env, name, partition).read(input));
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
