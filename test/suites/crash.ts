/**
 * A crash of the runtime mid-stream (docs/PROTOCOL.md §5.1 acks, §6 idempotence): SIGKILL to
 * wrangler and workerd while idempotent producers stream, then a restart on the same state.
 * An acknowledged record must survive exactly once and in order; an unacknowledged one may be
 * there at most once; producers that resend what was not acknowledged, with the same
 * identity and sequence, end with a log holding everything they produced exactly once.
 *
 * Sizes: KAITEN_CRASH_PRODUCERS, KAITEN_CRASH_BATCHES (sizes.ts; longer under `npm run soak`).
 */
import { StartFrom, type StoredRecord } from "@kaiten/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import {
  Connection,
  jsonRecord,
  jsonValue,
  type OutgoingBatch,
  type PipelineResult,
  ProtocolError,
  pipeline,
  type Subscription,
  waitUntil,
} from "../lib/client.ts";
import { call, postJson, readPartition } from "../lib/http.ts";
import { size } from "../reliability/sizes.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function crashSuite(host: HostUnderTest): void {
  describe(`kill -9 on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host));
    const TOPIC = "crash";
    const PARTITIONS = 2;
    /** A multiple of PARTITIONS. */
    const PRODUCERS = PARTITIONS * Math.ceil(size("KAITEN_CRASH_PRODUCERS", 4, 8) / PARTITIONS);
    const BATCHES = size("KAITEN_CRASH_BATCHES", 80, 2_000);
    const PER_BATCH = 25;
    /**
     * Batches each producer keeps unacknowledged. It must stay below the broker's window of 8
     * remembered batches (§6): after the crash, a producer resends its last acknowledged batch,
     * and up to this many later ones may have been committed without their acks arriving.
     */
    const WINDOW = 5;
    /** Kill once this many batches (of all producers) were acknowledged: well before the end. */
    const KILL_AFTER_ACKS = Math.floor((PRODUCERS * BATCHES) / 4);

    interface Value {
      p: number;
      s: number;
    }

    const partitionOf = (p: number) => p % PARTITIONS;

    /** Producer p's batches; record s of producer p carries {p, s}, s = 0, 1, 2, ... */
    function batchesOf(p: number): OutgoingBatch[] {
      return Array.from({ length: BATCHES }, (_, b) => ({
        records: Array.from({ length: PER_BATCH }, (_, i) =>
          jsonRecord({ p, s: b * PER_BATCH + i } satisfies Value),
        ),
        producer: { producerId: `crash-${p}`, producerEpoch: 7, sequence: b },
      }));
    }

    const sent = Array.from({ length: PRODUCERS }, (_, p) => batchesOf(p));
    let epochsBefore: number[];
    let beforeCrash: PipelineResult[];
    /** One live subscriber per partition, following the stream when the runtime dies. */
    let followers: Subscription[];

    interface Entry extends Value {
      offset: number;
    }

    /** Every record of a partition over HTTP (§11), as (offset, producer, sequence). */
    async function logOf(partition: number): Promise<Entry[]> {
      const { records } = await readPartition(broker().url, TOPIC, partition);
      return records.map((r) => ({ offset: r.offset, ...(r.value as Value) }));
    }

    async function epochs(): Promise<number[]> {
      const t = await call<{ partitions: Array<{ epoch: number }> }>(
        `${broker().url}/v1/topics/${TOPIC}`,
      );
      return t.body.partitions.map((p) => p.epoch);
    }

    /** Producer p's sequence numbers in log order. */
    const sequencesOf = (log: Entry[], p: number) => log.filter((e) => e.p === p).map((e) => e.s);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const ackedBatches = (r: PipelineResult | undefined) => r?.acks.filter(Boolean).length ?? 0;

    /** Each ack must point at exactly the records of its batch. */
    function expectAcksMatchLog(results: PipelineResult[], logs: Entry[][]): void {
      results.forEach((r, p) => {
        const log = logs[partitionOf(p)] ?? [];
        r.acks.forEach((ack, b) => {
          if (!ack) return;
          const at = log.filter(
            (e) => e.offset >= ack.baseOffset && e.offset < ack.baseOffset + ack.count,
          );
          expect(at.map((e) => [e.p, e.s])).toEqual(
            range(PER_BATCH).map((i) => [p, b * PER_BATCH + i]),
          );
        });
      });
    }

    /**
     * Reconnects producer p and resends its unacknowledged batches with the same identity and
     * sequences; returns the acks of all its batches. A batch stored before the crash must be
     * answered as a duplicate (with its first offsets), the others stored as new.
     */
    async function resend(
      p: number,
      r: PipelineResult,
      logAfterCrash: Entry[],
    ): Promise<PipelineResult> {
      const unacked = range(BATCHES).filter((b) => !r.acks[b]);
      const c = await Connection.open(broker().url, TOPIC, partitionOf(p));
      const again = await pipeline(
        c,
        unacked.map((b) => sent[p]?.[b] as OutgoingBatch),
        WINDOW,
      );
      await c.close();
      expect(again.failure).toBeNull();
      const stored = sequencesOf(logAfterCrash, p).length / PER_BATCH;
      const acks = [...r.acks];
      unacked.forEach((b, k) => {
        acks[b] = again.acks[k];
        expect(again.acks[k]?.duplicate, `producer ${p} batch ${b}`).toBe(b < stored);
      });
      const duplicates = again.acks.filter((a) => a?.duplicate).length;
      console.log(
        `producer ${p}: ${ackedBatches(r)} batches acked before the kill, ${stored} stored; resent ${unacked.length}, ${duplicates} answered as duplicates`,
      );
      return { acks, failure: null };
    }

    beforeAll(async () => {
      const created = await postJson(`${broker().url}/v1/topics`, {
        name: TOPIC,
        partitions: PARTITIONS,
      });
      expect(created.status).toBe(201);
      const connections = await Promise.all(
        range(PRODUCERS).map((p) => Connection.open(broker().url, TOPIC, partitionOf(p))),
      );
      epochsBefore = await epochs();
      followers = await Promise.all(
        range(PARTITIONS).map(async (partition) => {
          const c = await Connection.open(broker().url, TOPIC, partition);
          return c.subscribe({ from: StartFrom.Earliest });
        }),
      );
      let acked = 0;
      const streaming = connections.map((c, p) =>
        pipeline(c, sent[p] ?? [], WINDOW, () => acked++),
      );
      await waitUntil(
        () => acked >= KILL_AFTER_ACKS,
        () => `only ${acked} acks before the kill`,
      );
      await broker().kill9();
      beforeCrash = await Promise.all(streaming);
      await broker().restart();
    });

    describe("after kill -9 of the runtime and a restart on the same state", () => {
      it("was killed while every producer was still streaming", () => {
        for (const r of beforeCrash) {
          // Stopped by the socket closing, not by an ERROR frame from the broker.
          expect(r.failure).not.toBeNull();
          expect(r.failure).not.toBeInstanceOf(ProtocolError);
          expect(ackedBatches(r)).toBeGreaterThan(0);
          expect(ackedBatches(r)).toBeLessThan(BATCHES);
        }
        expect(beforeCrash.reduce((n, r) => n + ackedBatches(r), 0)).toBeGreaterThanOrEqual(
          KILL_AFTER_ACKS,
        );
      });

      it("acknowledged each producer's batches in the order it sent them", () => {
        for (const r of beforeCrash) {
          const acked = range(BATCHES).filter((b) => r.acks[b]);
          expect(acked).toEqual(range(acked.length));
        }
      });

      it("keeps each partition's epoch: the log was recovered, not reset", async () => {
        expect(await epochs()).toEqual(epochsBefore);
      });

      it("keeps every acknowledged record exactly once and in order; nothing is duplicated", async () => {
        const logs = await Promise.all(range(PARTITIONS).map(logOf));
        beforeCrash.forEach((r, p) => {
          const seqs = sequencesOf(logs[partitionOf(p)] ?? [], p);
          // A producer's records form a prefix of what it sent: no duplicate, no reordering, no
          // gap (strict sequences, §6), and at least everything acknowledged.
          expect(seqs).toEqual(range(seqs.length));
          expect(seqs.length).toBeGreaterThanOrEqual(ackedBatches(r) * PER_BATCH);
          expect(seqs.length % PER_BATCH).toBe(0);
        });
        for (const log of logs) {
          expect(log.map((e) => e.offset)).toEqual(range(log.length));
          expect(new Set(log.map((e) => `${e.p}:${e.s}`)).size).toBe(log.length);
        }
        expectAcksMatchLog(beforeCrash, logs);
      });

      it("never showed a subscriber a record that the crash lost (acks and pushes wait for durability)", async () => {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const log = await logOf(partition);
          const seen = followers[partition]?.records ?? [];
          expect(seen.length).toBeGreaterThan(0);
          expect(seen.length).toBeLessThanOrEqual(log.length);
          const mismatched = seen.filter((r) => {
            const e = log[r.offset];
            const v = jsonValue<Value>(r);
            return e?.offset !== r.offset || e.p !== v.p || e.s !== v.s;
          });
          expect(mismatched.map((r) => r.offset)).toEqual([]);
        }
      });

      it("remembers its producers: the last acknowledged batch, resent, gets its first offsets (§6)", async () => {
        await Promise.all(
          beforeCrash.map(async (r, p) => {
            const last = ackedBatches(r) - 1;
            const c = await Connection.open(broker().url, TOPIC, partitionOf(p));
            const batch = sent[p]?.[last] as OutgoingBatch;
            const ack = await c.produce(batch.records, batch.producer);
            await c.close();
            expect(ack).toEqual({ ...r.acks[last], requestId: ack.requestId, duplicate: true });
          }),
        );
      });

      it("lets producers resend what was not acknowledged and ends with everything exactly once", async () => {
        const logsAfterCrash = await Promise.all(range(PARTITIONS).map(logOf));
        const resumed = await Promise.all(
          beforeCrash.map((r, p) => resend(p, r, logsAfterCrash[partitionOf(p)] ?? [])),
        );
        const logs = await Promise.all(range(PARTITIONS).map(logOf));
        for (let p = 0; p < PRODUCERS; p++) {
          expect(sequencesOf(logs[partitionOf(p)] ?? [], p)).toEqual(range(BATCHES * PER_BATCH));
        }
        for (const log of logs) {
          expect(log.length).toBe((PRODUCERS / PARTITIONS) * BATCHES * PER_BATCH);
        }
        expectAcksMatchLog(resumed, logs);
      });

      it("lets a subscriber resume from its last offset and epoch with no gap and no duplicate", async () => {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const before = followers[partition] as Subscription;
          const c = await Connection.open(broker().url, TOPIC, partition);
          const resumed = await c.subscribe({
            from: StartFrom.Offset,
            // nextOffset is -1 when no RECORDS frame arrived: then resume where it started.
            position: Math.max(before.nextOffset, before.subscribed.startOffset),
            epoch: before.subscribed.epoch,
          });
          const end = resumed.subscribed.highWatermark;
          await resumed.waitForOffset(end);
          await c.close();
          const all = [...before.records, ...resumed.records];
          expect(all.map((r) => r.offset)).toEqual(range(end));
          const log = await logOf(partition);
          expect(all.map((r) => jsonValue<Value>(r))).toEqual(log.map(({ p, s }) => ({ p, s })));
        }
      });

      it("serves the same final log to a WebSocket subscriber from the earliest offset (§5.2)", async () => {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const c = await Connection.open(broker().url, TOPIC, partition);
          const sub = await c.subscribe({ from: StartFrom.Earliest });
          const end = sub.subscribed.highWatermark;
          await sub.waitForOffset(end);
          await c.close();
          expect(sub.subscribed.epoch).toBe(epochsBefore[partition]);
          expect(sub.offsets()).toEqual(range(end));
          const http = await logOf(partition);
          expect(sub.records.map((r: StoredRecord) => jsonValue<Value>(r))).toEqual(
            http.map(({ p, s }) => ({ p, s })),
          );
        }
      });
    });
  });
}
