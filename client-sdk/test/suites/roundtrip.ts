/**
 * Produce and subscribe round trips against a real broker.
 * Run against every host (roundtrip.test.ts: wrangler dev; roundtrip-node.test.ts: the Node host).
 */
import { describe, expect, it } from "vitest";
import type { SdkHost } from "../support/hosts.ts";
import { client, take, topicName, useBroker } from "../support/setup.ts";

export function roundtripSuite(host: SdkHost): void {
  describe(`round trips on ${host.name}`, () => {
    const broker = useBroker(() => ({}), host);

    describe("produce and subscribe", () => {
      it("acknowledges records in order with their partitions and offsets, and reads them back", async () => {
        const topic = topicName("rt");
        await broker().createTopic(topic, { partitions: 3 });
        const c = client(broker().url);
        const records = Array.from({ length: 20 }, (_, i) => ({
          key: `user-${i % 4}`,
          value: { i },
        }));
        const acks = await c.produce(topic, records);
        expect(acks).toHaveLength(20);
        const sub = c.subscribe<{ i: number }>(topic, { from: "earliest" });
        const got = await take(sub, 20);
        // Within a partition, offsets are 0, 1, 2... in produce order; each ack names its record.
        const byKey = new Map<string, number[]>();
        for (const r of got)
          byKey.set(r.key as string, [...(byKey.get(r.key as string) ?? []), r.value.i]);
        for (const [key, values] of byKey) {
          expect(values).toEqual(records.filter((r) => r.key === key).map((r) => r.value.i));
        }
        for (const r of got)
          expect(acks[r.value.i]).toEqual({ partition: r.partition, offset: r.offset });
      });

      it("sends keyed records where Kafka's partitioner puts them (§10: key 21 of 12 partitions is partition 0)", async () => {
        const topic = topicName("kafka");
        await broker().createTopic(topic, { partitions: 12 });
        const [ack] = await client(broker().url).produce(topic, [{ key: "21", value: 1 }]);
        expect(ack?.partition).toBe(0);
      });

      it("carries JSON, strings and bytes, headers and timestamps", async () => {
        const topic = topicName("types");
        const c = client(broker().url);
        await c.produce(topic, [
          {
            value: { nested: [1, "two", null] },
            headers: { a: "1" },
            timestamp: 1_700_000_000_000,
          },
          { value: "text travels as bytes" },
          { value: new Uint8Array([0, 255, 7]) },
        ]);
        const [json, text, bytes] = await take(c.subscribe(topic, { from: "earliest" }), 3);
        expect(json?.value).toEqual({ nested: [1, "two", null] });
        expect(json?.headers).toEqual({ a: "1" });
        expect(json?.timestamp).toBe(1_700_000_000_000);
        expect(new TextDecoder().decode(text?.value as Uint8Array)).toBe("text travels as bytes");
        expect(bytes?.value).toEqual(new Uint8Array([0, 255, 7]));
      });

      it("delivers records produced after a subscription from latest, and not those before", async () => {
        const topic = topicName("latest");
        const c = client(broker().url);
        await c.produce(topic, [{ value: "old" }]);
        const sub = c.subscribe(topic, { from: "latest" });
        await sub.ready();
        await c.produce(topic, [{ value: { n: "new" } }]);
        const [rec] = await take(sub, 1);
        expect(rec?.value).toEqual({ n: "new" });
      });

      it("applies backpressure: an async callback gets the next record only after the previous resolved", async () => {
        const topic = topicName("callback");
        const c = client(broker().url);
        await c.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ value: i })),
        );
        let busy = false;
        let overlapped = false;
        const seen: number[] = [];
        const sub = c.subscribe<number>(topic, { from: "earliest" }, async (rec) => {
          overlapped ||= busy;
          busy = true;
          await new Promise((r) => setTimeout(r, 5));
          seen.push(rec.value);
          busy = false;
        });
        await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(10);
        expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(overlapped).toBe(false);
        expect(sub.positions()).toEqual({ 0: { offset: 10, epoch: expect.any(Number) } });
      });

      it("resolves flush() once every queued record is acknowledged", async () => {
        const topic = topicName("flush");
        const c = client(broker().url, { lingerMs: 60_000 });
        const pending = c.produce(topic, [{ value: 1 }, { value: 2 }]);
        await c.flush();
        await expect(pending).resolves.toHaveLength(2);
        const info = await broker().api<{ partitions: Array<{ highWatermark: number }> }>(
          `/v1/topics/${topic}`,
        );
        expect(info.partitions[0]?.highWatermark).toBe(2);
      });

      it("rejects a record over the topic's maxRecordBytes with RECORD_TOO_LARGE, and sends the others", async () => {
        const topic = topicName("large");
        await broker().createTopic(topic, { maxRecordBytes: 100 });
        const c = client(broker().url);
        const tooLarge = c.produce(topic, [{ value: "x".repeat(101) }]);
        const fine = c.produce(topic, [{ value: "y".repeat(50) }]);
        await expect(tooLarge).rejects.toMatchObject({
          code: "RECORD_TOO_LARGE",
          retriable: false,
        });
        await expect(fine).resolves.toEqual([{ partition: 0, offset: 0 }]);
      });

      it("rejects values it cannot serialize with INVALID_RECORD, at the call", async () => {
        const c = client(broker().url);
        await expect(c.produce(topicName("bad"), [{ value: 10n }])).rejects.toMatchObject({
          code: "INVALID_RECORD",
        });
      });

      it("ends a subscription to an invalid topic: closed resolves to the coded error, ready rejects", async () => {
        const sub = client(broker().url).subscribe("bad topic name!");
        await expect(sub.ready()).rejects.toMatchObject({ code: "INVALID_TOPIC" });
        await expect(sub.closed).resolves.toMatchObject({
          code: "INVALID_TOPIC",
          retriable: false,
        });
      });

      it("reports status: connecting, then open, then closed", async () => {
        const c = client(broker().url);
        const states: string[] = [c.status.state];
        c.on("status", (s) => states.push(s.state));
        await c.produce(topicName("status"), [{ value: 1 }]);
        await c.close();
        expect(states).toEqual(["connecting", "open", "closed"]);
        await expect(c.closed).resolves.toBeUndefined();
      });
    });
  });
}
