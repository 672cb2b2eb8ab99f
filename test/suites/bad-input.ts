/**
 * Bad input over HTTP (docs/PROTOCOL.md §7, §8, §11.1 to §11.6), on every host: every refused
 * request gets the status of its code and the one error body shape,
 * {error: {code, numericCode, retriable, message}}, and stores nothing.
 */
import { ErrorCode, ErrorInfo, type ErrorName, Limits } from "@kaiten/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import type { HostUnderTest } from "./hosts.ts";

/** One topic with one partition and three records, shared by the read cases. */
const topic = "bad-input";
/** A topic whose records may hold at most 100 bytes. */
const small = "bad-input-small";

interface Result {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are any JSON.
  body: any;
}

async function result(res: Response): Promise<Result> {
  const raw = await res.text();
  let body: unknown = raw;
  try {
    body = raw === "" ? null : JSON.parse(raw);
  } catch {
    // Not JSON: the test sees the text.
  }
  return { status: res.status, headers: res.headers, body };
}

/** Checks an HTTP error against the one error table (§8, §11.6): status, code and body shape. */
function expectHttpError(res: Result, code: ErrorName): void {
  const summary = `${res.status} ${JSON.stringify(res.body)}`;
  expect(res.status, summary).toBe(ErrorInfo[code].http);
  expect(res.body?.error, summary).toMatchObject({
    code,
    numericCode: ErrorCode[code],
    retriable: ErrorInfo[code].retriable,
  });
  expect(res.body.error.message.length, summary).toBeGreaterThan(0);
}

function recordsPath(name: string, partition = 0, query = ""): string {
  const q = query ? `?${query}` : "";
  return `/v1/topics/${encodeURIComponent(name)}/partitions/${partition}/records${q}`;
}

interface Case {
  what: string;
  method: string;
  path: () => string;
  body?: unknown;
  code: ErrorName;
}

const produce = (body: unknown): Pick<Case, "method" | "path" | "body"> => ({
  method: "POST",
  path: () => `/v1/topics/${topic}/records`,
  body,
});
const read = (query: string): Pick<Case, "method" | "path"> => ({
  method: "GET",
  path: () => recordsPath(topic, 0, query),
});

const CASES: Case[] = [
  {
    what: "a topic name with a space",
    method: "GET",
    path: () => "/v1/topics/a%20b",
    code: "INVALID_TOPIC",
  },
  {
    what: "a topic name of 250 characters",
    method: "GET",
    path: () => `/v1/topics/${"t".repeat(250)}`,
    code: "INVALID_TOPIC",
  },
  {
    what: "a topic name of '..'",
    method: "POST",
    path: () => "/v1/topics",
    body: { name: ".." },
    code: "INVALID_TOPIC",
  },
  {
    what: "a topic name that is not valid percent-encoding",
    method: "GET",
    path: () => "/v1/topics/%E0%A4%A",
    code: "INVALID_TOPIC",
  },
  {
    what: "a produce to an illegal topic name",
    method: "POST",
    path: () => "/v1/topics/a%2Fb/records",
    body: { records: [{ value: 1 }] },
    code: "INVALID_TOPIC",
  },
  {
    what: "a partition the topic does not have",
    method: "GET",
    path: () => recordsPath(topic, 1),
    code: "INVALID_PARTITION",
  },
  {
    what: "a partition that is not a number",
    method: "GET",
    path: () => `/v1/topics/${topic}/partitions/x/records`,
    code: "INVALID_PARTITION",
  },
  { what: "offset -1", ...read("offset=-1"), code: "INVALID_OFFSET" },
  { what: "offset 1.5", ...read("offset=1.5"), code: "INVALID_OFFSET" },
  { what: "offset abc", ...read("offset=abc"), code: "INVALID_OFFSET" },
  { what: "an empty offset", ...read("offset="), code: "INVALID_OFFSET" },
  { what: "an offset above the high watermark", ...read("offset=4"), code: "OFFSET_OUT_OF_RANGE" },
  { what: "limit 0", ...read("limit=0"), code: "INVALID_REQUEST" },
  { what: "limit over 1,000", ...read("limit=1001"), code: "INVALID_REQUEST" },
  { what: "both offset and timestamp", ...read("offset=0&timestamp=0"), code: "INVALID_REQUEST" },
  { what: "a body that is not JSON", ...produce("{records: nope"), code: "INVALID_REQUEST" },
  { what: "a JSON body that is an array", ...produce([{ value: 1 }]), code: "INVALID_REQUEST" },
  {
    what: "a partition the topic does not have",
    ...produce({ partition: 1, records: [{ value: 1 }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a partition that is not an integer",
    ...produce({ partition: "0", records: [{ value: 1 }] }),
    code: "INVALID_REQUEST",
  },
  { what: "no records", ...produce({}), code: "INVALID_REQUEST" },
  { what: "an empty records array", ...produce({ records: [] }), code: "INVALID_REQUEST" },
  { what: "a record that is not an object", ...produce({ records: [1] }), code: "INVALID_REQUEST" },
  {
    what: "a record key that is not a string",
    ...produce({ records: [{ key: 7, value: 1 }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a record without a value",
    ...produce({ records: [{ key: "k" }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a record with value and valueBase64",
    ...produce({ records: [{ value: 1, valueBase64: "AA==" }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "valueBase64 that is not base64",
    ...produce({ records: [{ valueBase64: "!!" }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a header value that is not a string",
    ...produce({ records: [{ value: 1, headers: { h: 1 } }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a negative timestamp",
    ...produce({ records: [{ value: 1, timestamp: -1 }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a key over 4,096 bytes",
    ...produce({ records: [{ key: "k".repeat(Limits.maxKeyBytes + 1), value: 1 }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "over 10,000 records",
    ...produce({
      records: Array.from({ length: Limits.maxBatchRecords + 1 }, () => ({ value: 0 })),
    }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a producerId without a sequence",
    ...produce({ producerId: "p", records: [{ value: 1 }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a producerId over 64 bytes",
    ...produce({ producerId: "p".repeat(65), sequence: 0, records: [{ value: 1 }] }),
    code: "INVALID_REQUEST",
  },
  {
    what: "a record over the topic's maxRecordBytes",
    method: "POST",
    path: () => `/v1/topics/${small}/records`,
    body: { records: [{ value: "x".repeat(101) }] },
    code: "RECORD_TOO_LARGE",
  },
  {
    what: "a body over 1 MiB",
    ...produce(`{"records":[{"value":"${"x".repeat(Limits.maxFrameBytes)}"}]}`),
    code: "FRAME_TOO_LARGE",
  },
  {
    what: "0 partitions",
    method: "POST",
    path: () => "/v1/topics",
    body: { name: "zero-parts", partitions: 0 },
    code: "INVALID_REQUEST",
  },
  {
    what: "257 partitions",
    method: "POST",
    path: () => "/v1/topics",
    body: { name: "many-parts", partitions: 257 },
    code: "INVALID_REQUEST",
  },
  {
    what: "a topic without a name",
    method: "POST",
    path: () => "/v1/topics",
    body: { partitions: 1 },
    code: "INVALID_REQUEST",
  },
  {
    what: "an unknown topic",
    method: "GET",
    path: () => "/v1/topics/never-created",
    code: "UNKNOWN_TOPIC",
  },
  {
    what: "a read of an unknown topic",
    method: "GET",
    path: () => recordsPath("never-created"),
    code: "UNKNOWN_TOPIC",
  },
  // Under /v1: any other path is the dashboard (wrangler.toml [assets], single-page app).
  { what: "an unknown route", method: "GET", path: () => "/v1/anything", code: "NOT_FOUND" },
];

export function badInputSuite(host: HostUnderTest): void {
  describe(`bad input over HTTP on ${host.name}`, () => {
    const broker = useBroker(host.broker);

    async function http(method: string, path: string, body?: unknown): Promise<Result> {
      const init: RequestInit = { method, signal: AbortSignal.timeout(15_000) };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        if (typeof body !== "string") init.headers = { "content-type": "application/json" };
      }
      return result(await fetch(`${broker().url}${path}`, init));
    }

    async function highWatermark(): Promise<number> {
      const res = await http("GET", `/v1/topics/${topic}`);
      return res.body.partitions[0].highWatermark;
    }

    beforeAll(async () => {
      expect((await http("POST", "/v1/topics", { name: topic })).status).toBe(201);
      const res = await http("POST", "/v1/topics", { name: small, maxRecordBytes: 100 });
      expect(res.status).toBe(201);
      const produced = await http("POST", `/v1/topics/${topic}/records`, {
        records: [{ value: 1 }, { value: 2 }, { value: 3 }],
      });
      expect(produced.status).toBe(200);
    });

    it.each(CASES)("answers $what with $code", async ({ method, path, body, code }) => {
      expectHttpError(await http(method, path(), body), code);
    });

    it("stores nothing for any refused produce", async () => {
      expect(await highWatermark()).toBe(3);
    });

    it("names the earliest offset in an OFFSET_OUT_OF_RANGE body", async () => {
      const res = await http("GET", recordsPath(topic, 0, "offset=9"));
      expect(res.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", earliestOffset: 0 });
    });

    it("refuses a body whose content-length is over 1 MiB with 413 FRAME_TOO_LARGE", async () => {
      const res = await fetch(`${broker().url}/v1/topics/${topic}/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "x".repeat(Limits.maxFrameBytes + 1),
      });
      expectHttpError(await result(res), "FRAME_TOO_LARGE");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    });

    it("counts the body limit in bytes, not characters, when no content-length is sent", async () => {
      // Three records of 999,000 bytes each ("€" is 3 bytes in UTF-8): under 1 MiB of
      // characters but about 3 MB of bytes, which no stored row could hold.
      const value = "€".repeat(333_000);
      const body = new TextEncoder().encode(
        JSON.stringify({ records: [0, 1, 2].map(() => ({ value })) }),
      );
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(body);
          controller.close();
        },
      });
      const res = await fetch(`${broker().url}/v1/topics/${topic}/records`, {
        method: "POST",
        body: stream,
        duplex: "half",
      } as RequestInit);
      expectHttpError(await result(res), "FRAME_TOO_LARGE");
      expect(await highWatermark()).toBe(3);
    });

    it("refuses a body under 1 MiB whose records grow past a stored chunk when encoded (§7)", async () => {
      // JSON values are stored re-serialized: each 1e9 (3 bytes) becomes 1000000000 (10 bytes).
      const value = Array.from({ length: 80_000 }, () => 1e9);
      const text = `{"records":[${[0, 1, 2].map(() => `{"value":[${value.map(() => "1e9").join(",")}]}`).join(",")}]}`;
      expect(text.length).toBeLessThan(Limits.maxFrameBytes);
      expectHttpError(await http("POST", `/v1/topics/${topic}/records`, text), "FRAME_TOO_LARGE");
      expect(await highWatermark()).toBe(3);
    });

    it("answers a method a route does not have with 405", async () => {
      const res = await http("PUT", `/v1/topics/${topic}`);
      expect(res.status).toBe(405);
      expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", numericCode: 18 });
    });

    it("creates an unknown topic on GET with ?create=true and not without it", async () => {
      expectHttpError(await http("GET", "/v1/topics/meta-created"), "UNKNOWN_TOPIC");
      const res = await http("GET", "/v1/topics/meta-created?create=true");
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: "meta-created", partitionCount: 1 });
    });
  });
}
