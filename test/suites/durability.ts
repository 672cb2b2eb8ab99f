/**
 * An ack means durable, on every host: kill -9 in the middle of a stream loses nothing
 * acknowledged, and a restart serves every acknowledged record with no gap. Hosts that stop
 * gracefully (capability `gracefulStop`) also finish their commits on SIGTERM, close every
 * socket with going-away (1001) and end SSE answers with their last event complete.
 */
import { StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, jsonValue, type OutgoingBatch, pipeline } from "../lib/client.ts";
import { postJson } from "../lib/http.ts";
import { SseReader } from "../lib/sse.ts";
import type { HostUnderTest } from "./hosts.ts";

const BATCHES = 3_000;

export function durabilitySuite(host: HostUnderTest): void {
  describe(`durability on ${host.name}`, () => {
    const broker = useBroker(host.broker);

    function batches(tag: string): OutgoingBatch[] {
      return Array.from({ length: BATCHES }, (_, b) => ({
        records: [jsonRecord({ tag, b, i: 0 }), jsonRecord({ tag, b, i: 1 })],
        producer: { producerId: tag, producerEpoch: 1, sequence: b },
      }));
    }

    /** Every record of the partition, read from the earliest offset. */
    async function readAll(topic: string): Promise<Map<number, unknown>> {
      const c = await Connection.open(broker().url, topic, 0);
      const sub = await c.subscribe({ from: StartFrom.Earliest, credit: 8 * 1_048_576 });
      await sub.waitForOffset(sub.subscribed.highWatermark);
      await c.close();
      return new Map(sub.records.map((r) => [r.offset, jsonValue(r)]));
    }

    /** Streams batches, calling `stop` once `after` batches are acked; returns what was acked. */
    async function streamUntil(topic: string, after: number, stop: () => Promise<void>) {
      const c = await Connection.open(broker().url, topic, 0);
      const acked = new Map<number, unknown>();
      let stopping: Promise<void> | null = null;
      const all = batches(topic);
      const result = await pipeline(c, all, 32, (index, ack) => {
        all[index]?.records.forEach((_, i) => {
          acked.set(ack.baseOffset + i, { tag: topic, b: index, i });
        });
        if (acked.size >= after * 2) stopping ??= stop();
      });
      await stopping;
      return { acked, result, closed: await c.closed };
    }

    it("loses nothing acknowledged to kill -9 in the middle of a stream", async () => {
      const { acked, result } = await streamUntil("crash", 500, () => broker().kill9());
      expect(result.failure).not.toBeNull();
      expect(acked.size).toBeGreaterThanOrEqual(1_000);
      await broker().restart();
      const stored = await readAll("crash");
      for (const [offset, value] of acked) expect(stored.get(offset)).toEqual(value);
      // Nothing but what the producer sent, in order, with no gap.
      expect([...stored.keys()]).toEqual([...stored.keys()].map((_, i) => i));
    });

    it.runIf(host.gracefulStop)(
      "finishes commits on SIGTERM, ends SSE answers, closes sockets with going-away (1001) and exits 0",
      async () => {
        // An SSE reader too: it sees its stream end (EventSource then reconnects), not an error.
        const url = `${broker().url}/v1/topics/term-sse/partitions/0/records?offset=0&live=sse`;
        await postJson(`${broker().url}/v1/topics/term-sse/records`, { records: [{ value: 1 }] });
        const sse = await SseReader.open(url);
        await sse.nextOf(["records"]);
        const sseEnd = sse.next(30_000).then(
          (event) => event,
          (error: Error) => error,
        );
        const { acked, closed } = await streamUntil("term", 500, () => broker().stop());
        expect(await sseEnd).toBeNull();
        expect(closed.code).toBe(1001);
        expect(broker().logs()).toMatch(/broker exited: 0 ---\s*$/);
        await broker().restart();
        const stored = await readAll("term");
        for (const [offset, value] of acked) expect(stored.get(offset)).toEqual(value);
      },
    );
  });
}
