/**
 * Test helpers for the broker inside workerd: record builders, HTTP and storage access, and
 * (re-exported from test-socket.ts) WebSockets with a queue of decoded server frames.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import {
  ErrorCode,
  ErrorInfo,
  type ErrorName,
  type StoredRecord,
  ValueFormat,
  type WireRecord,
} from "@kaiten/protocol";
import { ORIGIN } from "./test-socket.ts";

export * from "./test-socket.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();

let topics = 0;

/** A topic name no other test uses: Durable Object storage is shared by the tests of a file. */
export function uniqueTopic(prefix = "t"): string {
  topics++;
  return `${prefix}-${topics}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface RecordOptions {
  /** Default: "r". */
  prefix?: string;
  /** Default: no key. */
  key?: string | null;
  /** Default: now. */
  timestamp?: number;
  /** Pads each value to about this many bytes. Default: no padding. */
  valueBytes?: number;
}

/** `n` JSON records whose values are `"<prefix>-<i>"` (padded to `valueBytes`). */
export function makeRecords(n: number, o: RecordOptions = {}): WireRecord[] {
  const timestamp = o.timestamp ?? Date.now();
  return Array.from({ length: n }, (_, i) => {
    const label = `${o.prefix ?? "r"}-${i}`;
    const padded = label.padEnd(Math.max(label.length, (o.valueBytes ?? 0) - 2), ".");
    return {
      key: o.key == null ? null : utf8.encode(o.key),
      value: utf8.encode(JSON.stringify(padded)),
      format: ValueFormat.Json,
      headers: [],
      timestamp,
    };
  });
}

/** A record as plain data, for comparing what was sent with what was read. */
export interface RecordView {
  offset: number;
  key: string | null;
  value: string;
}

export function view(r: StoredRecord): RecordView {
  return { offset: r.offset, key: r.key && text.decode(r.key), value: text.decode(r.value) };
}

/** What `records` should read back as when stored from `baseOffset`. */
export function expected(records: readonly WireRecord[], baseOffset: number): RecordView[] {
  return records.map((r, i) => ({
    offset: baseOffset + i,
    key: r.key && text.decode(r.key),
    value: text.decode(r.value),
  }));
}

// biome-ignore lint/suspicious/noExplicitAny: HTTP bodies are checked field by field in tests.
export type Json = any;

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Json;
}

/** A request to the Worker; an object body is sent as JSON, a string as it is. */
export async function http(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (typeof body !== "string") {
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
  }
  return result(await SELF.fetch(`${ORIGIN}${path}`, init));
}

/** A response with its body read (as JSON when it parses). */
export async function result(res: Response): Promise<HttpResult> {
  const raw = await res.text();
  let parsed: Json = raw;
  try {
    parsed = raw === "" ? null : JSON.parse(raw);
  } catch {
    // Not JSON: the test sees the text.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Checks an HTTP error against the one error table (§8, §11.6): status, code and body shape. */
export function expectHttpError(res: HttpResult, code: ErrorName): void {
  const summary = `${res.status} ${JSON.stringify(res.body)}`;
  if (res.status !== ErrorInfo[code].http) throw new Error(`expected ${code}, got ${summary}`);
  const e = res.body?.error;
  const ok =
    e?.code === code &&
    e.numericCode === ErrorCode[code] &&
    e.retriable === ErrorInfo[code].retriable &&
    typeof e.message === "string" &&
    e.message.length > 0;
  if (!ok) throw new Error(`expected an error body for ${code}, got ${summary}`);
}

export interface TopicOptions {
  partitions?: number;
  retentionMs?: number;
  retentionBytes?: number;
  maxRecordBytes?: number;
}

export async function createTopic(name: string, options: TopicOptions = {}): Promise<HttpResult> {
  const res = await http("POST", "/v1/topics", { name, ...options });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res)}`);
  return res;
}

/** One partition as GET /v1/topics/{t} describes it. */
export async function partitionInfo(topic: string, partition = 0) {
  const res = await http("GET", `/v1/topics/${encodeURIComponent(topic)}`);
  if (res.status !== 200) throw new Error(`describe ${topic}: ${res.status}`);
  return res.body.partitions[partition] as {
    epoch: number;
    earliestOffset: number;
    highWatermark: number;
    subscribers: number;
  };
}

export function recordsPath(topic: string, partition = 0, query = ""): string {
  const q = query ? `?${query}` : "";
  return `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records${q}`;
}

/** Every record of a partition from `offset` on, read over HTTP page by page. */
export async function readAllHttp(topic: string, partition = 0, offset = 0) {
  const out: Array<{ offset: number; key: string | null; value: unknown }> = [];
  for (;;) {
    const res = await http("GET", recordsPath(topic, partition, `offset=${offset}&limit=1000`));
    if (res.status !== 200) throw new Error(`read ${topic}: ${res.status} ${JSON.stringify(res)}`);
    for (const r of res.body.records) out.push({ offset: r.offset, key: r.key, value: r.value });
    if (res.body.nextOffset >= res.body.highWatermark) return { records: out, last: res.body };
    offset = res.body.nextOffset;
  }
}

export function partitionStub(topic: string, partition = 0) {
  return env.PARTITIONS.getByName(`${topic}/${partition}`);
}

/** Rows of the partition's `chunks` table: one per stored chunk (group commit). */
export function chunkRows(topic: string, partition = 0): Promise<number> {
  return runInDurableObject(partitionStub(topic, partition), (_, state) =>
    Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM chunks").one().n),
  );
}
