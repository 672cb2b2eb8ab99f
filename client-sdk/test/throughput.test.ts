/**
 * Records per second through the SDK on this machine, printed for the README and the issue
 * (no assertion on speed: the suite runs on machines of any speed). The workload follows
 * anchors.md W1 and W3: 100,000 records of 200 bytes, acknowledged, then read from offset 0.
 */
import { expect, it } from "vitest";
import { client, topicName, useBroker } from "./support/setup.ts";

const broker = useBroker();
const TOTAL = 100_000;
const payload = "x".repeat(180);

it("measures one producer and one subscriber", async () => {
  const topic = topicName("bench");
  const c = client(broker().url);
  let t0 = performance.now();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < TOTAL; i += 100) {
    calls.push(
      c.produce(
        topic,
        Array.from({ length: 100 }, (_, k) => ({ value: { i: i + k, payload } })),
      ),
    );
  }
  await Promise.all(calls);
  const produced = TOTAL / ((performance.now() - t0) / 1000);

  t0 = performance.now();
  let n = 0;
  let last = -1;
  let ordered = true;
  for await (const rec of client(broker().url).subscribe<{ i: number }>(topic, {
    from: "earliest",
  })) {
    ordered &&= rec.offset === last + 1;
    last = rec.offset;
    if (++n === TOTAL) break;
  }
  const consumed = TOTAL / ((performance.now() - t0) / 1000);
  console.log(
    `[throughput] one producer: ${Math.round(produced)} records/s acknowledged; one subscriber: ${Math.round(consumed)} records/s (${TOTAL} records of ~200 B)`,
  );
  expect(ordered).toBe(true);
  expect(n).toBe(TOTAL);
});
