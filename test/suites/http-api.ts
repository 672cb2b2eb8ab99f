/**
 * The HTTP API on every host (docs/PROTOCOL.md §11):
 * topics, produce, read by offset and by time, and CORS for browsers on other origins.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { call, type ErrorBody, type JsonRecord, postJson, type ReadPage } from "../lib/http.ts";
import type { HostUnderTest } from "./hosts.ts";

/**
 * A GET with exactly these headers, answered as sent: fetch adds its own Sec-Fetch-* and
 * Accept-Encoding, and decodes the body.
 */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

/** A browser's navigation to a page (a link, the address bar, a reload). */
const NAVIGATION = {
  accept: "text/html,application/xhtml+xml,*/*;q=0.8",
  "sec-fetch-mode": "navigate",
  "sec-fetch-dest": "document",
};

export function httpApiSuite(host: HostUnderTest): void {
  describe(`the HTTP API on ${host.name}`, () => {
    const broker = useBroker(host.broker);
    const url = (path: string) => `${broker().url}${path}`;

    interface TopicBody {
      name: string;
      partitions: number;
      retentionMs: number;
      retentionBytes: number;
      maxRecordBytes: number;
      createdAt: number;
    }

    interface DescribeBody {
      name: string;
      partitionCount: number;
      partitions: Array<{
        partition: number;
        epoch: number;
        earliestOffset: number;
        highWatermark: number;
      }>;
    }

    type Offsets = { offsets: Array<{ partition: number; offset: number }> };

    describe("topics (§11)", () => {
      const config = { name: "orders", partitions: 3, retentionMs: 3_600_000 };

      it("creates a topic with 201, answers 200 for the same config and 409 for another", async () => {
        const created = await postJson<TopicBody>(url("/v1/topics"), config);
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          name: "orders",
          partitions: 3,
          retentionMs: 3_600_000,
        });

        const again = await postJson<TopicBody>(url("/v1/topics"), config);
        expect(again.status).toBe(200);
        expect(again.body).toEqual(created.body);

        const other = await postJson<ErrorBody>(url("/v1/topics"), { ...config, partitions: 4 });
        expect(other.status).toBe(409);
        expect(other.body.error).toMatchObject({ code: "TOPIC_EXISTS", retriable: false });
        // The refusal carries the topic as it is, so a client can see what differs.
        expect((other.body.error as { topic?: unknown }).topic).toEqual(created.body);
      });

      it("keeps and echoes every setting a topic is created with", async () => {
        const settings = {
          name: "configured",
          partitions: 2,
          retentionMs: 1_000,
          retentionBytes: 5_000,
          maxRecordBytes: 500,
        };
        const created = await postJson<TopicBody>(url("/v1/topics"), settings);
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject(settings);
        const { partitions, ...kept } = settings;
        const described = await call(url("/v1/topics/configured"));
        expect(described.body).toMatchObject({ ...kept, partitionCount: partitions });
      });

      it("lists the topics it has", async () => {
        const list = await call<{ topics: TopicBody[] }>(url("/v1/topics"));
        expect(list.status).toBe(200);
        expect(list.body.topics.map((t) => t.name)).toContain("orders");
        expect(list.body.topics.find((t) => t.name === "orders")).toMatchObject({ partitions: 3 });
      });

      it("describes each partition with its earliest offset, high watermark and epoch", async () => {
        const topic = await call<DescribeBody>(url("/v1/topics/orders"));
        expect(topic.status).toBe(200);
        expect(topic.body.partitionCount).toBe(3);
        expect(topic.body.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
        for (const p of topic.body.partitions) {
          expect(p).toMatchObject({ earliestOffset: 0, highWatermark: 0 });
          expect(p.epoch).toBeGreaterThan(0);
        }
      });

      it("answers 404 UNKNOWN_TOPIC for a topic that does not exist", async () => {
        const missing = await call<ErrorBody>(url("/v1/topics/no-such-topic"));
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe("UNKNOWN_TOPIC");
      });
    });

    describe("records (§11)", () => {
      const T0 = 1_700_000_000_000;
      const records = [
        { key: "user-1", value: { kind: "signup", n: 1 }, timestamp: T0 },
        { key: null, value: "plain string", headers: { trace: "abc", "content-kind": "note" } },
        { valueBase64: "AAEC/f7/", timestamp: T0 + 1_000 },
        { key: "user-2", value: null, timestamp: T0 + 2_000 },
        { value: [1, 2, { deep: true }], timestamp: T0 + 3_000 },
      ];

      it("assigns offsets in request order to a JSON body", async () => {
        expect((await postJson(url("/v1/topics"), { name: "events", partitions: 1 })).status).toBe(
          201,
        );
        const produced = await postJson<Offsets>(url("/v1/topics/events/records"), { records });
        expect(produced.status).toBe(200);
        expect(produced.body.offsets).toEqual(records.map((_, i) => ({ partition: 0, offset: i })));
      });

      it("accepts a text/plain body, as navigator.sendBeacon sends it", async () => {
        const produced = await call<Offsets>(url("/v1/topics/events/records"), {
          method: "POST",
          headers: { "content-type": "text/plain;charset=UTF-8" },
          body: JSON.stringify({
            records: [{ key: "beacon", value: { page: "/" }, timestamp: T0 + 4_000 }],
          }),
        });
        expect(produced.status).toBe(200);
        expect(produced.body.offsets).toEqual([{ partition: 0, offset: 5 }]);
      });

      it("reads back keys, JSON values, bytes, headers and timestamps by offset", async () => {
        const page = await call<ReadPage>(
          url("/v1/topics/events/partitions/0/records?offset=0&limit=10"),
        );
        expect(page.status).toBe(200);
        expect(page.body).toMatchObject({ nextOffset: 6, highWatermark: 6, earliestOffset: 0 });
        const got = page.body.records;
        expect(got.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(got[0]).toMatchObject({
          key: "user-1",
          value: { kind: "signup", n: 1 },
          timestamp: T0,
        });
        expect(got[1]).toMatchObject({ key: null, value: "plain string" });
        expect(got[1]?.headers).toEqual({ trace: "abc", "content-kind": "note" });
        expect(got[1]?.timestamp).toBeGreaterThan(T0 + 3_000); // stamped by the broker on arrival
        expect(got[2]).toMatchObject({ key: null, valueBase64: "AAEC/f7/", timestamp: T0 + 1_000 });
        expect(got[2]).not.toHaveProperty("value");
        expect(got[3]).toMatchObject({ key: "user-2", value: null, timestamp: T0 + 2_000 });
        expect(got[4]).toMatchObject({ value: [1, 2, { deep: true }], headers: {} });
        expect(got[5]).toMatchObject({ key: "beacon", value: { page: "/" } });
      });

      it("pages with offset and limit", async () => {
        const first = await call<ReadPage>(
          url("/v1/topics/events/partitions/0/records?offset=1&limit=2"),
        );
        expect(first.body.records.map((r: JsonRecord) => r.offset)).toEqual([1, 2]);
        expect(first.body.nextOffset).toBe(3);
        const next = await call<ReadPage>(
          url(`/v1/topics/events/partitions/0/records?offset=${first.body.nextOffset}&limit=2`),
        );
        expect(next.body.records.map((r) => r.offset)).toEqual([3, 4]);
        const end = await call<ReadPage>(url("/v1/topics/events/partitions/0/records?offset=6"));
        expect(end.body).toMatchObject({ records: [], nextOffset: 6, highWatermark: 6 });
      });

      it("starts a read at the first record at or after a timestamp", async () => {
        const page = await call<ReadPage>(
          url(`/v1/topics/events/partitions/0/records?timestamp=${T0 + 1_500}&limit=2`),
        );
        expect(page.status).toBe(200);
        // The timestamps are 0, now, +1s, +2s, +3s, +4s: offset 1 (stamped now) is the first
        // at or after T0 + 1.5 s.
        expect(page.body.records.map((r) => r.offset)).toEqual([1, 2]);
      });

      it("finds the offset for a time across separate requests, and the end for a future time", async () => {
        for (const [i, ts] of [T0, T0 + 1_000, T0 + 2_000].entries()) {
          const r = await postJson<Offsets>(url("/v1/topics/clicks/records"), {
            records: [{ value: i, timestamp: ts }],
          });
          expect(r.body.offsets).toEqual([{ partition: 0, offset: i }]);
        }
        const at = async (ts: number) =>
          (await call<ReadPage>(url(`/v1/topics/clicks/partitions/0/records?timestamp=${ts}`)))
            .body;
        expect((await at(T0)).records.map((r) => r.value)).toEqual([0, 1, 2]);
        expect((await at(T0 + 1_500)).records.map((r) => r.offset)).toEqual([2]);
        expect(await at(T0 + 60_000)).toMatchObject({
          records: [],
          nextOffset: 3,
          highWatermark: 3,
        });
      });

      it("answers 416 OFFSET_OUT_OF_RANGE beyond the high watermark", async () => {
        const page = await call<ErrorBody>(url("/v1/topics/events/partitions/0/records?offset=7"));
        expect(page.status).toBe(416);
        expect(page.body.error.code).toBe("OFFSET_OUT_OF_RANGE");
      });
    });

    describe("idempotent requests (§6, §11)", () => {
      const request = {
        producerId: "http-producer",
        producerEpoch: 1,
        sequence: 0,
        records: [{ key: "k1", value: 1 }, { value: 2 }, { key: "k2", value: 3 }, { value: 4 }],
      };

      it("answers a retried request with its first offsets and stores it once", async () => {
        expect((await postJson(url("/v1/topics"), { name: "idem", partitions: 4 })).status).toBe(
          201,
        );
        const first = await postJson<Offsets>(url("/v1/topics/idem/records"), request);
        expect(first.status).toBe(200);
        const retry = await postJson<Offsets>(url("/v1/topics/idem/records"), request);
        expect(retry.status).toBe(200);
        expect(retry.body.offsets).toEqual(first.body.offsets);
        const topic = await call<DescribeBody>(url("/v1/topics/idem"));
        const stored = topic.body.partitions.reduce((n, p) => n + p.highWatermark, 0);
        expect(stored).toBe(request.records.length);
      });

      it("stores the next sequence as new records", async () => {
        const next = await postJson<Offsets>(url("/v1/topics/idem/records"), {
          ...request,
          sequence: 1,
        });
        expect(next.status).toBe(200);
        const topic = await call<DescribeBody>(url("/v1/topics/idem"));
        const stored = topic.body.partitions.reduce((n, p) => n + p.highWatermark, 0);
        expect(stored).toBe(2 * request.records.length);
      });

      it("fences an older producer epoch with 409 PRODUCER_FENCED", async () => {
        await postJson(url("/v1/topics/idem/records"), {
          ...request,
          producerEpoch: 2,
          sequence: 0,
        });
        const old = await postJson<ErrorBody>(url("/v1/topics/idem/records"), {
          ...request,
          sequence: 2,
        });
        expect(old.status).toBe(409);
        expect(old.body.error.code).toBe("PRODUCER_FENCED");
      });
    });

    describe("the dashboard", () => {
      it("is served at / with its files and an ETag, and at any path outside /v1", async () => {
        const index = await fetch(url("/"));
        expect(index.status).toBe(200);
        expect(index.headers.get("content-type")).toMatch(/^text\/html/);
        const html = await index.text();
        const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
        const js = await fetch(url(script));
        expect(js.status).toBe(200);
        expect(js.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
        // Hashed names are kept for a year on both hosts (dashboard/public/_headers on
        // Cloudflare, edge/src/node/assets.ts on Node); the index is revalidated.
        expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(index.headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
        expect(js.headers.get("etag")).toBeTruthy();
        await js.arrayBuffer();
        for (const page of ["/topics/orders", "/groups", "/_headers"]) {
          const r = await fetch(url(page));
          expect([r.status, await r.text()], page).toEqual([200, html]);
        }
      });

      it("answers a navigation to any of its pages with index.html", async () => {
        const index = await rawGet(url("/"), NAVIGATION);
        expect(index.headers["content-type"]).toMatch(/^text\/html/);
        for (const page of ["/topics/orders", "/groups/workers", "/sign-in?next=%2F"]) {
          const r = await rawGet(url(page), NAVIGATION);
          expect([r.status, r.body.toString()], page).toEqual([200, index.body.toString()]);
        }
      });

      it("sends its files compressed to a client that accepts it, and as they are to one that does not", async () => {
        const html = (await rawGet(url("/"))).body.toString();
        const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
        const plain = await rawGet(url(script));
        expect(plain.headers["content-encoding"]).toBeUndefined();
        expect(plain.body.length).toBeGreaterThan(100_000);
        const decoders = { gzip: gunzipSync, br: brotliDecompressSync } as const;
        const cases: Array<[string, Array<keyof typeof decoders>]> = [
          ["gzip", ["gzip"]],
          ["br", ["br"]],
          // What Chromium sends: either will do (the Node host prefers brotli, wrangler dev gzip).
          ["gzip, deflate, br, zstd", ["br", "gzip"]],
        ];
        for (const [accept, allowed] of cases) {
          const r = await rawGet(url(script), { "accept-encoding": accept });
          const encoding = r.headers["content-encoding"] as keyof typeof decoders;
          expect(allowed, accept).toContain(encoding);
          expect(decoders[encoding](r.body).equals(plain.body), accept).toBe(true);
          expect(r.body.length).toBeLessThan(plain.body.length / 2);
          // A length, where one is sent, is that of the bytes sent (wrangler dev streams them).
          if (r.headers["content-length"])
            expect(Number(r.headers["content-length"])).toBe(r.body.length);
          if (host.broker.host === "node") {
            // Caches must key the answer on Accept-Encoding and tell the representations
            // apart (wrangler dev sends neither Vary nor a distinct ETag; Cloudflare's edge does
            // its own negotiation).
            expect(r.headers.vary).toBe("Accept-Encoding");
            expect(r.headers.etag).not.toBe(plain.headers.etag);
          }
        }
        if (host.broker.host === "node") expect(plain.headers.vary).toBe("Accept-Encoding");
      });

      it("answers a missing file under /assets/ with a 404 that nothing keeps, never index.html", async () => {
        // A page of an older deploy asking for its old script; a navigation to it, too.
        const script = { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script" };
        for (const headers of [{}, script, NAVIGATION]) {
          const r = await rawGet(url("/assets/index-doesnotexist.js"), headers);
          expect(r.status, JSON.stringify(headers)).toBe(404);
          expect(r.headers["content-type"]).not.toMatch(/html/);
          expect(r.body.toString()).not.toContain("<!doctype");
          expect(r.headers["cache-control"]).toBe("no-store");
        }
      });
    });

    describe("CORS (§11)", () => {
      const origin = "https://app.example.com";

      it("allows a cross-origin request", async () => {
        const list = await call(url("/v1/topics"), { headers: { Origin: origin } });
        expect(list.status).toBe(200);
        expect(list.headers.get("access-control-allow-origin")).toBe("*");
      });

      it("puts CORS headers on errors too, so a page can read them", async () => {
        const missing = await call(url("/v1/topics/no-such-topic"), {
          headers: { Origin: origin },
        });
        expect(missing.status).toBe(404);
        expect(missing.headers.get("access-control-allow-origin")).toBe("*");
      });

      it("answers a preflight OPTIONS with the allowed methods and headers", async () => {
        const preflight = await call(url("/v1/topics/events/records"), {
          method: "OPTIONS",
          headers: {
            Origin: origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
          },
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
        expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
        expect(preflight.headers.get("access-control-allow-headers")).toContain("content-type");
      });
    });
  });
}
