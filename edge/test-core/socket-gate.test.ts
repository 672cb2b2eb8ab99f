/**
 * The socket gate (edge/src/core/auth/socket-gate.ts) in plain Node: what both hosts used to
 * do each on their own before a PRODUCE reaches the partition (PROTOCOL.md §15.5, §18.4).
 */
import {
  encodeBatch,
  FrameType,
  KaitenError,
  type ProduceFrame,
  ValueFormat,
} from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import type { SocketGrant } from "../src/core/auth/access.ts";
import type { Admission } from "../src/core/auth/site-keys.ts";
import { type GrantGateOptions, grantGate, recordsIn } from "../src/core/auth/socket-gate.ts";
import type { RpcResult } from "../src/core/port.ts";
import type { PeerSocket } from "../src/core/types.ts";

const KEY = `pk_${"a".repeat(12)}_${"b".repeat(24)}`;
const peer = {} as PeerSocket;

function produceOf(records: number): ProduceFrame {
  const batch = encodeBatch(
    Array.from({ length: records }, () => ({
      key: null,
      value: new Uint8Array([1]),
      format: ValueFormat.Bytes,
      headers: [],
      timestamp: 1,
    })),
  );
  return {
    type: FrameType.Produce,
    requestId: 1,
    producerId: "",
    producerEpoch: 0,
    sequence: 0,
    batch,
  };
}

function gateFor(grant: SocketGrant, more: Partial<GrantGateOptions> = {}) {
  return grantGate({
    rights: () => ({ grant, produced: false }),
    save: () => {},
    topic: () => "clicks",
    settings: () => ({}) as never,
    now: () => 0,
    expire: () => {},
    expiresAt: () => {},
    ...more,
  });
}

const siteGrant: SocketGrant = {
  produce: true,
  subscribe: false,
  expiresAt: 0,
  siteKey: { key: KEY, origin: "https://shop.example" },
};

describe("the socket gate", () => {
  it("counts a batch's records from its header, and a batch too short to say as one", () => {
    expect(recordsIn(produceOf(7).batch)).toBe(7);
    expect(recordsIn(new Uint8Array(3))).toBe(1);
  });

  it("admits a site-key PRODUCE at the key's bucket, for every record of the batch", async () => {
    const asked: Array<[string, Admission]> = [];
    const gate = gateFor(siteGrant, {
      siteKey: (id) => ({
        admit: async (a: Admission): Promise<RpcResult<null>> => {
          asked.push([id, a]);
          return { ok: true, value: null };
        },
      }),
    });
    await gate.produce(peer, produceOf(5));
    expect(asked).toEqual([
      ["a".repeat(12), { key: KEY, origin: "https://shop.example", topic: "clicks", records: 5 }],
    ]);
  });

  it("throws the bucket's refusal with its code, and refuses site keys where none are served", async () => {
    const refusing = gateFor(siteGrant, {
      siteKey: () => ({
        admit: async () => ({
          ok: false,
          error: { code: "THROTTLED", message: "slow down", retriable: true, detail: 2_000 },
        }),
      }),
    });
    await expect(refusing.produce(peer, produceOf(1))).rejects.toMatchObject({ code: "THROTTLED" });
    await expect(gateFor(siteGrant).produce(peer, produceOf(1))).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
    });
  });

  it("refuses a PRODUCE when the partition takes no more records, before the socket's rights", () => {
    const closed = new KaitenError("INVALID_REQUEST", "the stream is closed");
    const gate = gateFor(
      { produce: false, subscribe: true, expiresAt: 0 },
      {
        refuseProduce: () => {
          throw closed;
        },
      },
    );
    expect(() => gate.produce(peer, produceOf(1))).toThrow(closed);
  });
});
