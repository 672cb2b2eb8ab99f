/**
 * The Durable Streams protocol on Kaiten's logs (docs/PROTOCOL.md §18) with the real
 * `@durable-streams/client`: a stream is a topic of one partition, so records cross between
 * the two APIs in both directions.
 */
import { DurableStream, IdempotentProducer, stream } from "@durable-streams/client";
import { StartFrom } from "@kaiten/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, jsonValue } from "../lib/client.ts";
import { call, type ReadPage } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function durableStreamsSuite(host: HostUnderTest): void {
  describe(`Durable Streams on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, { KAITEN_LIVE_WAIT_MS: "2000" }));
    const streamUrl = (name: string) => `${broker().url}/v1/stream/${name}`;
    const utf8 = new TextEncoder();
    const connections: Connection[] = [];
    afterAll(() => {
      for (const c of connections) c.close();
    });

    async function socket(topic: string): Promise<Connection> {
      const c = await Connection.open(broker().url, topic, 0);
      connections.push(c);
      return c;
    }

    const bytesRecord = (text: string) => ({
      key: null,
      value: utf8.encode(text),
      format: 0 as const,
      headers: [] as Array<[string, string]>,
      timestamp: Date.now(),
    });

    describe("the Durable Streams client on a Kaiten broker (§18)", () => {
      it("writes with an idempotent producer and reads every message back, in order", async () => {
        const handle = await DurableStream.create({
          url: streamUrl("ds-client"),
          contentType: "application/json",
        });
        const producer = new IdempotentProducer(handle, "writer-1", { lingerMs: 5 });
        for (let i = 0; i < 50; i++) producer.append(JSON.stringify({ i }));
        await producer.flush();
        await producer.close();
        const res = await stream<{ i: number }>({
          url: streamUrl("ds-client"),
          offset: "-1",
          live: false,
        });
        const items = await res.json();
        expect(items.map((x) => x.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      });

      it("reads records a Kaiten WebSocket producer wrote, catch-up and live", async () => {
        await DurableStream.create({ url: streamUrl("ws-to-ds"), contentType: "text/plain" });
        const c = await socket("ws-to-ds");
        await c.produce([bytesRecord("hello "), bytesRecord("world")]);
        const caughtUp = await stream({ url: streamUrl("ws-to-ds"), offset: "-1", live: false });
        expect(await caughtUp.text()).toBe("hello world");

        const live = await stream({
          url: streamUrl("ws-to-ds"),
          offset: caughtUp.offset,
          live: "sse",
        });
        const received = new Promise<string>((resolve) => {
          const stop = live.subscribeText(async (chunk) => {
            if (chunk.text.length === 0) return;
            stop();
            live.cancel();
            resolve(chunk.text);
          });
        });
        await c.produce([bytesRecord("!")]);
        expect(await received).toBe("!");
      });

      it("appends that Kaiten reads over its HTTP API and its WebSocket, one record per JSON message", async () => {
        const handle = await DurableStream.create({
          url: streamUrl("ds-to-ws"),
          contentType: "application/json",
        });
        // The client sends each append as a one-message JSON array; the broker flattens it.
        await handle.append(JSON.stringify({ n: 1 }));
        await handle.append(JSON.stringify({ n: 2 }));
        const page = await call<ReadPage>(
          `${broker().url}/v1/topics/ds-to-ws/partitions/0/records`,
        );
        expect(page.body.records.map((r) => r.value)).toEqual([{ n: 1 }, { n: 2 }]);

        const c = await socket("ds-to-ws");
        const sub = await c.subscribe({ from: StartFrom.Earliest });
        await sub.waitForOffset(2);
        expect(sub.records.map((r) => jsonValue(r))).toEqual([{ n: 1 }, { n: 2 }]);
      });

      it("refuses Kaiten producers once the stream is closed", async () => {
        const handle = await DurableStream.create({
          url: streamUrl("ds-closed"),
          contentType: "application/json",
        });
        await handle.close();
        const c = await socket("ds-closed");
        await expect(c.produce([jsonRecord({ late: true })])).rejects.toThrow(/closed/);
      });

      it("lists a stream as a topic of one partition kept until deleted", async () => {
        await DurableStream.create({ url: streamUrl("ds-listed"), contentType: "text/plain" });
        const list = await call<{
          topics: Array<{ name: string; partitions: number; retentionMs: number }>;
        }>(`${broker().url}/v1/topics`);
        expect(list.body.topics.find((t) => t.name === "ds-listed")).toMatchObject({
          partitions: 1,
          retentionMs: -1,
        });
        await DurableStream.delete({ url: streamUrl("ds-listed") });
        const after = await call<{ topics: Array<{ name: string }> }>(`${broker().url}/v1/topics`);
        expect(after.body.topics.some((t) => t.name === "ds-listed")).toBe(false);
      });

      it("lists many streams in pages by name prefix (§11.1)", async () => {
        for (const n of ["c", "a", "b"])
          await DurableStream.create({ url: streamUrl(`paged-${n}`), contentType: "text/plain" });
        type Page = { topics: Array<{ name: string }>; next?: string };
        const first = await call<Page>(`${broker().url}/v1/topics?prefix=paged-&limit=2`);
        expect(first.body.topics.map((t) => t.name)).toEqual(["paged-a", "paged-b"]);
        const rest = await call<Page>(
          `${broker().url}/v1/topics?prefix=paged-&limit=2&after=${first.body.next}`,
        );
        expect(rest.body).toEqual({ topics: [expect.objectContaining({ name: "paged-c" })] });
      });
    });
  });
}
