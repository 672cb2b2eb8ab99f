/**
 * `@kaiten/client/group` against a real broker (docs/PROTOCOL.md §16): members in one
 * process share a topic's partitions; a member that joins or leaves cleanly causes no record
 * to be processed twice; a member that vanishes has its partitions moved after its session
 * timeout, and only what it had not committed is delivered again.
 * Run against every host (group.test.ts: wrangler dev; group-node.test.ts: the Node host).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { joinGroup } from "../../src/group.ts";
import type { SdkHost } from "../support/hosts.ts";
import { client, topicName, until, useBroker } from "../support/setup.ts";

export function groupSuite(host: SdkHost): void {
  describe(`consumer groups in the SDK on ${host.name}`, () => {
    const broker = useBroker(() => ({}), host);

    async function produce(url: string, topic: string, from: number, n: number) {
      const records = Array.from({ length: n }, (_, i) => ({
        key: `k${from + i}`,
        value: from + i,
      }));
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
        expect(new Set(seen.filter(([who]) => who === "b").map(([, v]) => v)).size).toBeGreaterThan(
          0,
        );
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

      it("ends the session of the last member when it vanishes, by the broker's own timer", async () => {
        const topic = topicName("grp-alone");
        const url = broker().url;
        await broker().createTopic(topic, { partitions: 2 });
        const group = `${topic}-g`;
        // As above, the member's network goes black and it never leaves; but no other member is
        // left whose requests would expire its session on the way (the test above): only the
        // host's timer can (a Durable Object alarm; a setTimeout on Node).
        let alive = true;
        const blackHoled: typeof fetch = (input, init) =>
          alive ? fetch(input, init) : new Promise(() => {});
        const lost = client(url, { fetch: blackHoled });
        const member = joinGroup<number>(
          lost,
          { group, topic, from: "earliest", sessionTimeoutMs: 2_000 },
          () => {},
        );
        await until(() => member.assignment().length === 2, 20_000, "the member holds both");
        alive = false;
        const vanished = Date.now();
        await lost.close();
        // Describing the group only reads it: it expires no session.
        const members = async () =>
          (await broker().api<{ members: unknown[] }>(`/v1/groups/${group}`)).members.length;
        await expect.poll(members, { timeout: 10_000, interval: 200 }).toBe(0);
        // Not at once, as a leave would: its last heartbeat came at most about 667 ms (a third of
        // the session) before it vanished.
        expect(Date.now() - vanished).toBeGreaterThanOrEqual(1_000);
      });
    });

    describe("consumer groups in the SDK, more members", () => {
      it("gives three members two of six partitions each, reports assigned and revoked, and lag reaches 0", async () => {
        const topic = topicName("grp3");
        const url = broker().url;
        await broker().createTopic(topic, { partitions: 6 });
        const group = `${topic}-g`;
        const seen: number[] = [];
        const events: string[] = [];
        const members = [0, 1, 2].map((i) => {
          const m = joinGroup<number>(
            client(url),
            { group, topic, from: "earliest", commitIntervalMs: 200 },
            (r) => {
              seen.push(r.value);
            },
          );
          m.on("assigned", (p) => events.push(`${i}+${p.length}`));
          m.on("revoked", (p) => events.push(`${i}-${p.length}`));
          return m;
        });
        await until(() => members.every((m) => m.assignment().length === 2), 30_000, "two each");
        expect(events.some((e) => e.includes("-"))).toBe(true);
        await produce(url, topic, 0, 300);
        await until(() => seen.length === 300, 30_000, "all 300");
        expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
        await Promise.all(members.map((m) => m.commit()));
        const described = await broker().api<{ totalLag: number; members: unknown[] }>(
          `/v1/groups/${group}`,
        );
        expect(described).toMatchObject({ totalLag: 0 });
        expect(described.members).toHaveLength(3);
        await Promise.all(members.map((m) => m.close()));
      });

      it("starts at the group's committed offsets, not at `from`", async () => {
        const topic = topicName("grp-from");
        const url = broker().url;
        await broker().createTopic(topic, { partitions: 1 });
        await produce(url, topic, 0, 10);
        const group = `${topic}-g`;
        const first: number[] = [];
        const m1 = joinGroup<number>(client(url), { group, topic, from: "earliest" }, (r) => {
          first.push(r.value);
        });
        await until(() => first.length === 10, 20_000, "first member reads 10");
        await m1.close();
        await produce(url, topic, 10, 5);
        const second: number[] = [];
        const m2 = joinGroup<number>(client(url), { group, topic, from: "latest" }, (r) => {
          second.push(r.value);
        });
        await until(
          () => second.length === 5,
          20_000,
          "second member reads the 5 after the commit",
        );
        expect(second).toEqual([10, 11, 12, 13, 14]);
        await m2.close();
      });

      it("after kill -9 of a member process, moves its partitions within the session timeout and loses nothing", async () => {
        const topic = topicName("grp-kill");
        const url = broker().url;
        await broker().createTopic(topic, { partitions: 4 });
        const group = `${topic}-g`;
        const script = fileURLToPath(new URL("../support/group-member.mjs", import.meta.url));
        const child = spawn(process.execPath, [script, url, group, topic], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        const childSeen: number[] = [];
        let childAssigned: number[] = [];
        let buffered = "";
        child.stdout.on("data", (d: Buffer) => {
          buffered += d.toString();
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) {
            const msg = JSON.parse(line) as { value?: number; assigned?: number[] };
            if (msg.assigned) childAssigned = msg.assigned;
            else childSeen.push(msg.value as number);
          }
        });
        const seen: number[] = [];
        const survivor = joinGroup<number>(
          client(url),
          { group, topic, from: "earliest", sessionTimeoutMs: 3_000 },
          (r) => {
            seen.push(r.value);
          },
        );
        await until(
          () => childAssigned.length === 2 && survivor.assignment().length === 2,
          30_000,
          "two each",
        );
        await produce(url, topic, 0, 200);
        await until(() => childSeen.length + seen.length >= 200, 30_000, "200 processed");
        await new Promise((r) => setTimeout(r, 300)); // the child's next auto-commit
        child.kill("SIGKILL");
        await produce(url, topic, 200, 100);
        await until(
          () => survivor.assignment().length === 4,
          30_000,
          "the survivor takes all four",
        );
        await until(() => new Set([...childSeen, ...seen]).size === 300, 30_000, "all 300");
        const all = [...childSeen, ...seen];
        expect([...new Set(all)].sort((a, b) => a - b)).toEqual(
          Array.from({ length: 300 }, (_, i) => i),
        );
        // Duplicates are allowed only for what the dead member processed and had not committed:
        // with a commit every 100 ms and 300 ms of quiet before the kill, none.
        expect(all.length - 300).toBe(0);
        await survivor.close();
      });
    });
  });
}
