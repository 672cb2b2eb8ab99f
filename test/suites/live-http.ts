/**
 * Live reads over plain HTTP on Kaiten's own API on every host
 * (docs/PROTOCOL.md §17): SSE with exact resume by Last-Event-ID, explicit reset and gap
 * events, long-poll, and the cache headers of catch-up pages.
 */
import { afterEach, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { call, postJson, type ReadPage } from "../lib/http.ts";
import { SseReader } from "../lib/sse.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function liveHttpSuite(host: HostUnderTest): void {
  describe(`live reads over HTTP on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, { KAITEN_LIVE_WAIT_MS: "1000" }));
    const url = (path: string) => `${broker().url}${path}`;
    const readers: SseReader[] = [];
    afterEach(() => {
      for (const r of readers.splice(0)) r.close();
    });

    async function produce(topic: string, values: unknown[]): Promise<void> {
      const r = await postJson(url(`/v1/topics/${topic}/records`), {
        records: values.map((value) => ({ value })),
      });
      expect(r.status).toBe(200);
    }

    async function sse(path: string, headers: Record<string, string> = {}): Promise<SseReader> {
      const reader = await SseReader.open(url(path), headers);
      readers.push(reader);
      return reader;
    }

    const values = (data: string) => (JSON.parse(data) as ReadPage).records.map((r) => r.value);
    const offsets = (data: string) => (JSON.parse(data) as ReadPage).records.map((r) => r.offset);

    describe("SSE (§17.2)", () => {
      it("sends stored records, then each new commit, with ids that resume exactly", async () => {
        await produce("sse-a", [1, 2, 3]);
        const reader = await sse("/v1/topics/sse-a/partitions/0/records?offset=0&live=sse");
        expect(reader.response.headers.get("content-type")).toBe("text/event-stream");
        const first = await reader.nextOf(["records"]);
        expect(values(first.data)).toEqual([1, 2, 3]);
        const epoch = (JSON.parse(first.data) as ReadPage).epoch;
        expect(first.id).toBe(`${epoch}:3`);
        await produce("sse-a", [4, 5]);
        const live = await reader.nextOf(["records"]);
        expect(offsets(live.data)).toEqual([3, 4]);
        expect(live.id).toBe(`${epoch}:5`);
        reader.close();

        await produce("sse-a", [6]);
        const resumed = await sse("/v1/topics/sse-a/partitions/0/records?offset=0&live=sse", {
          "last-event-id": first.id as string,
        });
        const again = await resumed.nextOf(["records"]);
        expect(offsets(again.data)).toEqual([3, 4, 5]);
      });

      it("keeps an idle stream open with heartbeats", async () => {
        await produce("sse-idle", ["x"]);
        const reader = await sse("/v1/topics/sse-idle/partitions/0/records?offset=1&live=sse");
        await produce("sse-idle", ["y"]);
        const e = await reader.nextOf(["records"]);
        expect(values(e.data)).toEqual(["y"]);
        while (reader.comments < 2) {
          await produce("sse-idle", ["z"]);
          await reader.nextOf(["records"]);
        }
        expect(reader.comments).toBeGreaterThanOrEqual(2);
      });

      it("says `reset` when the log was recreated, then reads the new log from its start", async () => {
        await produce("sse-reset", ["old"]);
        const reader = await sse("/v1/topics/sse-reset/partitions/0/records?offset=0&live=sse");
        const before = await reader.nextOf(["records"]);
        reader.close();
        expect((await call(url("/v1/topics/sse-reset"), { method: "DELETE" })).status).toBe(200);
        await produce("sse-reset", ["new"]);
        const after = await sse("/v1/topics/sse-reset/partitions/0/records?offset=0&live=sse", {
          "last-event-id": before.id as string,
        });
        const reset = await after.next();
        expect(reset?.type).toBe("reset");
        const page = await after.nextOf(["records"]);
        expect(values(page.data)).toEqual(["new"]);
        expect(page.id?.split(":")[0]).toBe(String(JSON.parse(reset?.data ?? "{}").epoch));
      });

      it("says `gap` for offsets lost to retention, then continues at the earliest offset", async () => {
        const created = await postJson(url("/v1/topics"), { name: "sse-gap", retentionBytes: 1 });
        expect(created.status).toBe(201);
        for (let i = 0; i < 3; i++) await produce("sse-gap", [i]);
        const head = await call<ReadPage>(url("/v1/topics/sse-gap/partitions/0/records?limit=1"));
        expect(head.body.earliestOffset).toBeGreaterThan(0);
        const reader = await sse(
          `/v1/topics/sse-gap/partitions/0/records?offset=0&epoch=${head.body.epoch}&live=sse`,
        );
        const gap = await reader.next();
        expect(gap?.type).toBe("gap");
        expect(JSON.parse(gap?.data ?? "{}")).toMatchObject({
          from: 0,
          to: head.body.earliestOffset,
        });
        const page = await reader.nextOf(["records"]);
        expect(offsets(page.data)[0]).toBe(head.body.earliestOffset);
      });

      it("answers an offset past the high watermark with HTTP 416, not a stream", async () => {
        await produce("sse-far", [1]);
        const r = await call(url("/v1/topics/sse-far/partitions/0/records?offset=9&live=sse"));
        expect(r.status).toBe(416);
      });
    });

    describe("long-poll (§17.1)", () => {
      it("answers at once when records exist past the offset", async () => {
        await produce("lp-a", ["a", "b"]);
        const r = await call<ReadPage>(
          url("/v1/topics/lp-a/partitions/0/records?offset=1&live=long-poll"),
        );
        expect(r.body.records.map((x) => x.value)).toEqual(["b"]);
      });

      it("waits at the tail and answers with the next commit", async () => {
        await produce("lp-b", ["a"]);
        const polled = call<ReadPage>(
          url("/v1/topics/lp-b/partitions/0/records?offset=1&live=long-poll"),
        );
        let page = (await Promise.race([polled, produce("lp-b", ["b"]).then(() => polled)])).body;
        // The wait may have ended (KAITEN_LIVE_WAIT_MS) before the produce: poll again from there.
        while (page.records.length === 0)
          page = (
            await call<ReadPage>(
              url(`/v1/topics/lp-b/partitions/0/records?offset=${page.nextOffset}&live=long-poll`),
            )
          ).body;
        expect(page.records.map((x) => x.value)).toEqual(["b"]);
        expect(page.nextOffset).toBe(2);
      });

      it("answers an empty page at the tail when nothing arrives, and 409 for another epoch", async () => {
        await produce("lp-c", ["a"]);
        const empty = await call<ReadPage>(
          url("/v1/topics/lp-c/partitions/0/records?offset=1&live=long-poll&wait=10"),
        );
        expect(empty.status).toBe(200);
        expect(empty.body).toMatchObject({ records: [], nextOffset: 1 });
        const other = empty.body.epoch === 1 ? 2 : 1;
        const r = await call(
          url(`/v1/topics/lp-c/partitions/0/records?offset=0&epoch=${other}&live=long-poll`),
        );
        expect(r.status).toBe(409);
      });
    });

    describe("caching catch-up pages (§17.3)", () => {
      it("marks a complete page of a named epoch immutable, and answers 304 to its ETag", async () => {
        await produce("cache-a", [1, 2, 3, 4]);
        const probe = await call<ReadPage>(url("/v1/topics/cache-a/partitions/0/records?limit=1"));
        const page = url(
          `/v1/topics/cache-a/partitions/0/records?offset=0&limit=2&epoch=${probe.body.epoch}`,
        );
        const full = await fetch(page);
        expect(full.headers.get("cache-control")).toContain("immutable");
        const etag = full.headers.get("etag") as string;
        expect(etag).toBeTruthy();
        const again = await fetch(page, { headers: { "if-none-match": etag } });
        expect(again.status).toBe(304);
      });

      it("lets nothing keep the page at the tail, which can still grow", async () => {
        await produce("cache-b", [1]);
        const tail = await fetch(url("/v1/topics/cache-b/partitions/0/records?offset=0"));
        expect(tail.headers.get("cache-control")).toContain("no-cache");
      });
    });
  });
}
