/**
 * WebSocket protocol v1 as every host must serve it (docs/PROTOCOL.md §5, §6, §8, §9):
 * produce, subscribe from any position, idempotent retries, bad frames answered on their
 * socket only, refusals over the socket. Run against each host by a one-line test file.
 */
import { ErrorCode, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, jsonValue, ProtocolError, socketUrl } from "../lib/client.ts";
import type { HostUnderTest } from "./hosts.ts";

export function websocketSuite(host: HostUnderTest): void {
  describe(`WebSocket protocol v1 on ${host.name}`, () => {
    const broker = useBroker(host.broker);

    it("acknowledges produces with contiguous offsets and serves them from any offset (§5.1, §5.2)", async () => {
      const c = await Connection.open(broker().url, "ws-basic", 0);
      const acks = [];
      for (let b = 0; b < 5; b++)
        acks.push(await c.produce([jsonRecord({ b, i: 0 }), jsonRecord({ b, i: 1 })]));
      expect(acks.map((a) => a.baseOffset)).toEqual([0, 2, 4, 6, 8]);
      const reader = await Connection.open(broker().url, "ws-basic", 0);
      const sub = await reader.subscribe({ from: StartFrom.Offset, position: 3 });
      await c.produce([jsonRecord({ b: 5, i: 0 })]);
      await sub.waitForOffset(11);
      expect(sub.offsets()).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(jsonValue(sub.records[7] as never)).toEqual({ b: 5, i: 0 });
      await Promise.all([c.close(), reader.close()]);
    });

    it("stores an idempotent retry once and answers it with the original offsets (§6)", async () => {
      const c = await Connection.open(broker().url, "ws-idem", 0);
      const producer = { producerId: "p", producerEpoch: 1, sequence: 0 };
      const first = await c.produce([jsonRecord(1)], producer);
      const again = await c.produce([jsonRecord(1)], producer);
      expect(again).toMatchObject({ baseOffset: first.baseOffset, duplicate: true });
      await expect(c.produce([jsonRecord(2)], { ...producer, sequence: 5 })).rejects.toMatchObject({
        frame: { code: "SEQUENCE_GAP", detail: 1 },
      });
      const reader = await Connection.open(broker().url, "ws-idem", 0);
      const sub = await reader.subscribe({ from: StartFrom.Earliest });
      expect(sub.subscribed.highWatermark).toBe(1);
      await Promise.all([c.close(), reader.close()]);
    });

    it("answers a bad frame with ERROR on that socket only, and keeps it open (§8)", async () => {
      const c = await Connection.open(broker().url, "ws-bad", 0);
      const raw = new WebSocket(socketUrl(broker().url, "ws-bad", 0), "kaiten.v1");
      await new Promise((r) => raw.once("open", r));
      const answers: Buffer[] = [];
      raw.on("message", (d) => answers.push(d as Buffer));
      raw.send(Buffer.from([0x7f, 1, 2]));
      raw.send("ping");
      await expect.poll(() => answers.length).toBe(2);
      expect(answers[0]?.[0]).toBe(0x84);
      expect(answers[1]?.toString()).toBe("pong");
      expect(await c.produce([jsonRecord("still fine")])).toMatchObject({ baseOffset: 0 });
      expect(c.unsolicitedErrors).toEqual([]);
      raw.close();
      await c.close();
    });

    it("refuses a bad topic name over the socket: ERROR, then close 4000 + its number (§9)", async () => {
      const c = await Connection.open(broker().url, "bad name!", 0);
      expect((await c.closed).code).toBe(4000 + ErrorCode.INVALID_TOPIC);
      expect(c.unsolicitedErrors[0]?.code).toBe("INVALID_TOPIC");
    });

    it("refuses a partition the topic does not have (§9)", async () => {
      const c = await Connection.open(broker().url, "ws-parts", 3);
      expect((await c.closed).code).toBe(4000 + ErrorCode.INVALID_PARTITION);
    });

    it("refuses a subscription beyond the log with OFFSET_OUT_OF_RANGE and the earliest offset (§8)", async () => {
      const c = await Connection.open(broker().url, "ws-range", 0);
      const error = await c.subscribe({ from: StartFrom.Offset, position: 99 }).catch((e) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).frame).toMatchObject({
        code: "OFFSET_OUT_OF_RANGE",
        detail: 0,
      });
      await c.close();
    });
  });
}
