/**
 * Catch-up then live (docs/PROTOCOL.md §5.2, §5.3): a subscriber starting behind the log reads
 * stored chunks page by page as it grants credit, while a producer keeps appending. Where it
 * reaches the high watermark it switches to live pushes; across that switch (and back, when
 * it runs out of credit) it must see every offset exactly once, in order.
 */
import { decodeChunk, FrameType, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  describeFrame,
  frameBytes,
  makeRecords,
  openSocket,
  sleep,
  type TestSocket,
  uniqueTopic,
} from "./helpers.ts";

const PER_BATCH = 5;
const BEFORE = 20;
const DURING = 30;
const TOTAL = (BEFORE + DURING) * PER_BATCH;

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number) {
  let x = seed;
  return (max: number) => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x % max;
  };
}

async function ackOffset(producer: TestSocket, requestId: number): Promise<number> {
  const ack = await producer.reply(requestId);
  if (ack.type !== FrameType.ProduceAck) throw new Error(`produce failed: ${describeFrame(ack)}`);
  return ack.baseOffset;
}

describe("catch-up then live", () => {
  it.each([
    { credit: 1, seed: 1 },
    { credit: 300, seed: 2 },
    { credit: 5_000, seed: 3 },
  ])(
    "delivers offsets 0..total-1 exactly once with credit $credit while a producer keeps producing",
    async ({ credit, seed }) => {
      const random = lcg(seed);
      const topic = uniqueTopic("switch");
      const producer = await openSocket(topic);
      // The value each offset must hold, from the acks: `b<batch>-<index>`.
      const want: string[] = [];
      const place = (b: number, baseOffset: number) => {
        for (let i = 0; i < PER_BATCH; i++) want[baseOffset + i] = `b${b}-${i}`;
      };
      const batch = (b: number) => makeRecords(PER_BATCH, { prefix: `b${b}` });
      const before = Array.from({ length: BEFORE }, (_, b) => producer.produce(batch(b)));
      for (const [b, id] of before.entries()) place(b, await ackOffset(producer, id));

      const sub = await openSocket(topic);
      await sub.subscribed({ from: StartFrom.Earliest, credit });
      const producing = (async () => {
        const ids = [];
        for (let b = BEFORE; b < BEFORE + DURING; b++) {
          ids.push(producer.produce(batch(b)));
          await sleep(random(4));
        }
        for (const [k, id] of ids.entries()) place(BEFORE + k, await ackOffset(producer, id));
      })();

      const offsets: number[] = [];
      const values: string[] = [];
      let next = 0;
      while (next < TOTAL) {
        const f = await sub.next(FrameType.Records);
        for (const r of decodeChunk(f.batches)) {
          offsets.push(r.offset);
          values.push(JSON.parse(new TextDecoder().decode(r.value)));
        }
        next = f.nextOffset;
        await sleep(random(3));
        sub.credit(frameBytes(f));
      }
      await producing;

      expect(offsets).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
      expect(values).toEqual(want);
      expect(await sub.framesWithin(100)).toEqual([]);
      producer.close();
      sub.close();
    },
  );
});
