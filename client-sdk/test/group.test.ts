/**
 * `@kaiten/client/group` against a real `wrangler dev` (docs/PROTOCOL.md §16): members in one
 * process share a topic's partitions; a member that joins or leaves cleanly causes no record
 * to be processed twice; a member that vanishes has its partitions moved after its session
 * timeout, and only what it had not committed is delivered again.
 */
import { describe, expect, it } from "vitest";
import { joinGroup } from "../src/group.ts";
import { client, topicName, until, useBroker } from "./support/setup.ts";

const broker = useBroker();

async function produce(url: string, topic: string, from: number, n: number) {
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: from + i }));
  await client(url).produce(topic, records);
}

describe("consumer groups in the SDK", () => {
  it("shares the partitions between two members, and moves them on a clean leave with no duplicate", async () => {
    const topic = topicName("grp");
    const url = broker().url;
    await broker().createTopic(topic, { partitions: 4 });
    await produce(url, topic, 0, 100);
    const seen: Array<[string, number]> = [];
    const a = joinGroup<number>(
      client(url),
      { group: `${topic}-g`, topic, from: "earliest", commitIntervalMs: 200 },
      (r) => {
        seen.push(["a", r.value]);
      },
    );
    await until(() => seen.length === 100, 20_000, "a reads all 100");
    const b = joinGroup<number>(
      client(url),
      { group: `${topic}-g`, topic, from: "earliest", commitIntervalMs: 200 },
      (r) => {
        seen.push(["b", r.value]);
      },
    );
    await until(
      () => a.assignment().length === 2 && b.assignment().length === 2,
      20_000,
      "2 and 2",
    );
    await produce(url, topic, 100, 100);
    await until(() => seen.length === 200, 20_000, "all 200");
    expect(new Set(seen.filter(([who]) => who === "b").map(([, v]) => v)).size).toBeGreaterThan(0);
    await a.close();
    await until(() => b.assignment().length === 4, 20_000, "b takes all");
    await produce(url, topic, 200, 50);
    await until(() => seen.length === 250, 20_000, "all 250");
    const values = seen.map(([, v]) => v).sort((x, y) => x - y);
    expect(values).toEqual(Array.from({ length: 250 }, (_, i) => i));
    await b.close();
  });

  it("after a member vanishes, gives its partitions to another from the committed offsets", async () => {
    const topic = topicName("grp-crash");
    const url = broker().url;
    await broker().createTopic(topic, { partitions: 2 });
    const group = `${topic}-g`;
    const seen: number[] = [];
    // The doomed member's network goes black: its HTTP calls hang forever, its sockets close,
    // and it never leaves the group, as after kill -9 or a sleeping tab.
    let alive = true;
    const blackHoled: typeof fetch = (input, init) =>
      alive ? fetch(input, init) : new Promise(() => {});
    const doomedClient = client(url, { fetch: blackHoled });
    const doomed = joinGroup<number>(
      doomedClient,
      { group, topic, from: "earliest", sessionTimeoutMs: 2_000, commitIntervalMs: 100 },
      (r) => {
        seen.push(r.value);
      },
    );
    await until(() => doomed.assignment().length === 2, 20_000, "doomed holds both");
    await produce(url, topic, 0, 40);
    await until(() => seen.length === 40, 20_000, "doomed reads 40");
    await new Promise((r) => setTimeout(r, 600)); // a commit goes out
    alive = false;
    await doomedClient.close();
    const survivor = joinGroup<number>(client(url), { group, topic, from: "earliest" }, (r) => {
      seen.push(r.value);
    });
    await produce(url, topic, 40, 20);
    await until(() => new Set(seen).size === 60, 30_000, "the survivor reads the rest");
    // Everything arrived; what was delivered twice is at most what the doomed member had not committed.
    expect([...new Set(seen)].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 60 }, (_, i) => i),
    );
    expect(seen.length - 60).toBeLessThan(40);
    await survivor.close();
  });
});
