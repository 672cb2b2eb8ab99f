/**
 * Keys land where Kafka's default partitioner puts them (docs/PROTOCOL.md §10), through the
 * HTTP API of a real broker (§11). The expected partitions are computed by hand from the
 * murmur2 values Kafka publishes in its own tests (UtilsTest.testMurmur2):
 * partition = (murmur2(key) & 0x7fffffff) % partitions.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { postJson } from "../lib/http.ts";
import type { HostUnderTest } from "./hosts.ts";

type Offsets = { offsets: Array<{ partition: number; offset: number }> };

/** Kafka's murmur2 of each key (signed, as Java returns it) and the partitions it implies. */
const KAFKA_KEYS = [
  { key: "21", murmur2: -973932308, of12: 0, of7: 3 },
  { key: "foobar", murmur2: -790332482, of12: 6, of7: 0 },
  { key: "abc", murmur2: 479470107, of12: 3, of7: 4 },
  { key: "a-little-bit-long-string", murmur2: -985981536, of12: 8, of7: 1 },
  { key: "a-little-bit-longer-string", murmur2: -1486304829, of12: 11, of7: 0 },
  {
    key: "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
    murmur2: -58897971,
    of12: 5,
    of7: 3,
  },
];

export function partitionerSuite(host: HostUnderTest): void {
  describe(`the key partitioner on ${host.name}`, () => {
    const broker = useBroker(host.broker);

    async function produce(topic: string, records: unknown[]): Promise<Offsets["offsets"]> {
      const r = await postJson<Offsets>(`${broker().url}/v1/topics/${topic}/records`, { records });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.offsets;
    }

    beforeAll(async () => {
      for (const [name, partitions] of [
        ["keys-12", 12],
        ["keys-7", 7],
      ] as const) {
        const r = await postJson(`${broker().url}/v1/topics`, { name, partitions });
        expect(r.status).toBe(201);
      }
    });

    describe("the key partitioner (§10)", () => {
      it("the literal expectations agree with Kafka's published murmur2 values", () => {
        for (const k of KAFKA_KEYS) {
          expect((k.murmur2 & 0x7fffffff) % 12).toBe(k.of12);
          expect((k.murmur2 & 0x7fffffff) % 7).toBe(k.of7);
        }
      });

      it("puts each key on Kafka's partition of a 12-partition topic", async () => {
        const offsets = await produce(
          "keys-12",
          KAFKA_KEYS.map((k) => ({ key: k.key, value: k.key })),
        );
        expect(offsets.map((o) => o.partition)).toEqual(KAFKA_KEYS.map((k) => k.of12));
      });

      it("puts each key on Kafka's partition of a 7-partition topic", async () => {
        const offsets = await produce(
          "keys-7",
          KAFKA_KEYS.map((k) => ({ key: k.key, value: k.key })),
        );
        expect(offsets.map((o) => o.partition)).toEqual(KAFKA_KEYS.map((k) => k.of7));
      });

      it("puts the same key on the same partition in every request", async () => {
        const keys = ["21", "foobar", "user-42", "ключ", "🙂"];
        const first = await produce(
          "keys-12",
          keys.map((key) => ({ key, value: 1 })),
        );
        for (let round = 0; round < 5; round++) {
          const again = await produce(
            "keys-12",
            keys.map((key) => ({ key, value: round })),
          );
          expect(again.map((o) => o.partition)).toEqual(first.map((o) => o.partition));
        }
      });

      it("puts the keyless records of one request together on one partition, in order", async () => {
        for (let round = 0; round < 5; round++) {
          const offsets = await produce(
            "keys-12",
            Array.from({ length: 20 }, (_, i) => ({ value: i })),
          );
          const partitions = new Set(offsets.map((o) => o.partition));
          expect(partitions.size).toBe(1);
          const base = offsets[0]?.offset ?? -1;
          expect(offsets.map((o) => o.offset)).toEqual(offsets.map((_, i) => base + i));
        }
      });

      it("places keyed records by key and keyless ones together in a mixed request", async () => {
        const records = [
          { key: "abc", value: "a" },
          { value: "x" },
          { key: "foobar", value: "b" },
          { value: "y" },
        ];
        const offsets = await produce("keys-12", records);
        expect(offsets[0]?.partition).toBe(3);
        expect(offsets[2]?.partition).toBe(6);
        expect(offsets[1]?.partition).toBe(offsets[3]?.partition);
      });
    });
  });
}
