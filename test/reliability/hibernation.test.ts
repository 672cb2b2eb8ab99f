/**
 * Hibernation over a real `wrangler dev` (docs/PROTOCOL.md §3.2, §5.2): subscribers stay idle
 * long enough for workerd to evict the partition object (10 s without events); their sockets
 * stay open, and the next record reaches each of them at the right offset, the key filter
 * still applied. The object's `commits` counter (§11.1), kept in memory only, shows that a
 * new instance served the record. The Workers-pool variant is edge/test/hibernation.test.ts.
 *
 * Sizes: KAITEN_HIBERNATE_IDLE_MS.
 */
import { StartFrom } from "@kaiten/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, jsonValue, type Subscription } from "../lib/client.ts";
import { call, postJson } from "../lib/http.ts";
import { rssBytes, workerdPids } from "../lib/proc.ts";
import { size } from "./sizes.ts";

const broker = useBroker();
const TOPIC = "sleepy";
/** Longer than workerd's 10 s before it evicts an idle object with hibernatable sockets. */
const IDLE_MS = size("KAITEN_HIBERNATE_IDLE_MS", 13_000, 65_000);
const SUBSCRIBERS = 20;

interface PartitionInfo {
  highWatermark: number;
  subscribers: number;
  commits: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function info(): Promise<PartitionInfo> {
  const r = await call<{ partitions: PartitionInfo[] }>(`${broker().url}/v1/topics/${TOPIC}`);
  return r.body.partitions[0] as PartitionInfo;
}

let subs: Subscription[];
let keyed: Subscription;
let before: PartitionInfo;
let after: PartitionInfo;
const rss = { before: 0, after: 0 };

beforeAll(async () => {
  const url = broker().url;
  const runtime = workerdPids(broker().processGroup, broker().port).runtime;
  subs = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async () => {
      const c = await Connection.open(url, TOPIC, 0);
      return c.subscribe({ from: StartFrom.Earliest });
    }),
  );
  const k = await Connection.open(url, TOPIC, 0);
  keyed = await k.subscribe({ from: StartFrom.Earliest, key: new TextEncoder().encode("k1") });
  const producer = await Connection.open(url, TOPIC, 0);
  await producer.produce([jsonRecord("a", "k1"), jsonRecord("b", "k2")]);
  await producer.close();
  await Promise.all([...subs, keyed].map((s) => s.waitForOffset(2)));
  before = await info();
  rss.before = rssBytes(runtime);
  await sleep(IDLE_MS);
  rss.after = rssBytes(runtime);
  const posted = await postJson<{ offsets: unknown[] }>(`${url}/v1/topics/${TOPIC}/records`, {
    records: [
      { key: "k2", value: "c" },
      { key: "k1", value: "d" },
    ],
  });
  expect(posted.status).toBe(200);
  await Promise.all([...subs, keyed].map((s) => s.waitForOffset(4)));
  after = await info();
  const mib = (n: number) => (n / 1_048_576).toFixed(1);
  console.log(
    `hibernation: idle ${IDLE_MS} ms; workerd RSS ${mib(rss.before)} MiB before, ${mib(rss.after)} MiB after`,
  );
});

describe(`subscribers idle for ${IDLE_MS / 1000} s`, () => {
  it("were served by a new instance of the partition object: the old one was evicted", () => {
    expect(before.commits).toBeGreaterThan(0);
    expect(after.commits).toBe(1);
    expect(after).toMatchObject({ highWatermark: 4, subscribers: SUBSCRIBERS + 1 });
  });

  it("receive the next record at the right offset, once", () => {
    for (const s of subs) {
      expect(s.error).toBeNull();
      expect(s.offsets()).toEqual([0, 1, 2, 3]);
      expect(s.records.map((r) => jsonValue(r))).toEqual(["a", "b", "c", "d"]);
    }
  });

  it("keep their key filter across the eviction", () => {
    expect(keyed.offsets()).toEqual([0, 3]);
    expect(keyed.records.map((r) => jsonValue(r))).toEqual(["a", "d"]);
  });
});
