/**
 * Chaos (docs/PROTOCOL.md §5.1, §5.2, §6): a TCP proxy cuts every connection after a random
 * lifetime, for the whole length of the stream. Idempotent producers reconnect and resend
 * what was not acknowledged with the same sequences; subscribers reconnect and resume from
 * their last position and epoch. Every subscriber must end with exactly the produced
 * records, once each and in order, and the log must hold each record once.
 *
 * Sizes: KAITEN_CHAOS_BATCHES, KAITEN_CHAOS_MAX_LIFE_MS; KAITEN_CHAOS_SEED replays a run.
 */
import { StartFrom, type StoredRecord } from "@kaiten/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { ChaosProxy } from "../lib/chaos-proxy.ts";
import {
  Connection,
  jsonRecord,
  jsonValue,
  type OutgoingBatch,
  ProtocolError,
  pipeline,
} from "../lib/client.ts";
import { postJson, readPartition } from "../lib/http.ts";
import { SOAK, size } from "../reliability/sizes.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function chaosSuite(host: HostUnderTest): void {
  describe(`chaos on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host));
    const TOPIC = "chaos";
    const PARTITIONS = 2;
    const PRODUCERS = 4;
    const SUBSCRIBERS_PER_PARTITION = 2;
    const BATCHES = size("KAITEN_CHAOS_BATCHES", 200, 4_000);
    const PER_BATCH = 10;
    /** Within the last batches the broker remembers per producer (8, §6), so a resend is recognized. */
    const WINDOW = 5;
    const MIN_LIFE_MS = 20;
    const MAX_LIFE_MS = size("KAITEN_CHAOS_MAX_LIFE_MS", 300, 1_000);
    const SEED = size("KAITEN_CHAOS_SEED", Date.now() % 1_000_000, Date.now() % 1_000_000);
    /** Records each partition ends with. */
    const PER_PARTITION = (PRODUCERS / PARTITIONS) * BATCHES * PER_BATCH;
    const DEADLINE_MS = SOAK ? 1_500_000 : 100_000;

    interface Value {
      p: number;
      s: number;
    }

    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const partitionOf = (p: number) => p % PARTITIONS;
    const deadline = Date.now() + DEADLINE_MS;

    function checkDeadline(what: string): void {
      if (Date.now() > deadline) throw new Error(`${what}: no end after ${DEADLINE_MS} ms`);
    }

    function batchesOf(p: number): OutgoingBatch[] {
      return range(BATCHES).map((b) => ({
        records: range(PER_BATCH).map((i) =>
          jsonRecord({ p, s: b * PER_BATCH + i } satisfies Value),
        ),
        producer: { producerId: `chaos-${p}`, producerEpoch: 1, sequence: b },
      }));
    }

    let proxy: ChaosProxy;
    const stats = { producerReconnects: 0, subscriberReconnects: 0, duplicateAcks: 0 };

    /** Opens a connection through the proxy, trying again while the proxy cuts it first. */
    async function connect(partition: number): Promise<Connection> {
      for (;;) {
        checkDeadline("connecting");
        try {
          return await Connection.open(proxy.url, TOPIC, partition);
        } catch {
          await sleep(5);
        }
      }
    }

    /** Sends every batch of producer p, resuming after each cut at the first unacknowledged one. */
    async function produceAll(p: number): Promise<void> {
      const batches = batchesOf(p);
      let next = 0;
      while (next < BATCHES) {
        checkDeadline(`producer ${p}`);
        const c = await connect(partitionOf(p));
        const r = await pipeline(c, batches.slice(next), WINDOW);
        // Acknowledgements come in send order (§5.1): the acknowledged ones are a prefix.
        let acked = 0;
        while (r.acks[acked]) acked++;
        stats.duplicateAcks += r.acks.filter((a) => a?.duplicate).length;
        next += acked;
        if (r.failure instanceof ProtocolError) throw r.failure;
        if (r.failure) stats.producerReconnects++;
        await c.close();
      }
    }

    /** Follows a partition to its last record, resuming from its position after each cut. */
    async function follow(partition: number): Promise<StoredRecord[]> {
      const got: StoredRecord[] = [];
      let position = 0;
      let epoch = 0;
      while (position < PER_PARTITION) {
        checkDeadline(`subscriber of ${partition} at ${position}`);
        const c = await connect(partition);
        let closed = false;
        void c.closed.then(() => {
          closed = true;
        });
        try {
          const sub = await c.subscribe({ from: StartFrom.Offset, position, epoch });
          epoch = sub.subscribed.epoch;
          while (!closed && !sub.error && Math.max(sub.nextOffset, position) < PER_PARTITION) {
            await sleep(5);
          }
          if (sub.error) throw new ProtocolError(sub.error);
          got.push(...sub.records);
          position = Math.max(position, sub.nextOffset);
        } catch (error) {
          if (error instanceof ProtocolError) throw error;
        }
        if (position < PER_PARTITION) stats.subscriberReconnects++;
        await c.close();
      }
      return got;
    }

    let followed: StoredRecord[][];

    beforeAll(async () => {
      const created = await postJson(`${broker().url}/v1/topics`, {
        name: TOPIC,
        partitions: PARTITIONS,
      });
      expect(created.status).toBe(201);
      proxy = await ChaosProxy.start(broker().port, {
        minLifeMs: MIN_LIFE_MS,
        maxLifeMs: MAX_LIFE_MS,
        seed: SEED,
      });
      const subscribers = range(PARTITIONS * SUBSCRIBERS_PER_PARTITION).map((i) =>
        follow(i % PARTITIONS),
      );
      await Promise.all(range(PRODUCERS).map(produceAll));
      followed = await Promise.all(subscribers);
      console.log(
        `chaos (seed ${SEED}): ${proxy.connections} connections, ${proxy.cuts} cut; ` +
          `${stats.producerReconnects} producer and ${stats.subscriberReconnects} subscriber ` +
          `reconnects; ${stats.duplicateAcks} batches answered as duplicates`,
      );
    });

    afterAll(async () => {
      await proxy?.close();
    });

    describe(`through a proxy that cuts connections every ${MIN_LIFE_MS}-${MAX_LIFE_MS} ms`, () => {
      it("cut connections while the stream ran, and the clients reconnected", () => {
        expect(proxy.cuts).toBeGreaterThan(0);
        expect(stats.producerReconnects + stats.subscriberReconnects).toBeGreaterThan(0);
      });

      it("stores each produced record exactly once, in each producer's order (§6)", async () => {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const { records } = await readPartition(broker().url, TOPIC, partition);
          expect(records.map((r) => r.offset)).toEqual(range(PER_PARTITION));
          for (let p = partition; p < PRODUCERS; p += PARTITIONS) {
            const seqs = records.map((r) => r.value as Value).filter((v) => v.p === p);
            expect(seqs.map((v) => v.s)).toEqual(range(BATCHES * PER_BATCH));
          }
        }
      });

      it("gives every subscriber exactly the log: every offset once, in order, same values", async () => {
        for (const [i, got] of followed.entries()) {
          const partition = i % PARTITIONS;
          const { records } = await readPartition(broker().url, TOPIC, partition);
          expect(got.map((r) => r.offset)).toEqual(range(PER_PARTITION));
          expect(got.map((r) => jsonValue<Value>(r))).toEqual(records.map((r) => r.value));
        }
      });
    });
  });
}
