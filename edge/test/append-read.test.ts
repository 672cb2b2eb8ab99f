/**
 * Append and read (docs/PROTOCOL.md §3.1, §4 batches, §5.1 produce, §5.2 subscribe, §11.2
 * and §11.3 HTTP): what a
 * producer is acknowledged is exactly what a subscriber and an HTTP reader get back.
 */
import { StartFrom, SUBPROTOCOL } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  expected,
  http,
  makeRecords,
  openSocket,
  partitionInfo,
  readAllHttp,
  uniqueTopic,
  view,
} from "./helpers.ts";

const BATCHES = 5;
const PER_BATCH = 4;

async function produceBatches(topic: string) {
  const producer = await openSocket(topic);
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    makeRecords(PER_BATCH, { prefix: `b${b}`, key: b % 2 ? "odd" : null }),
  );
  const acks = await producer.produceEach(batches);
  producer.close();
  return { batches, acks, sent: batches.flatMap((b, i) => expected(b, i * PER_BATCH)) };
}

describe("append and read", () => {
  it("answers the upgrade with the kaiten.v1 subprotocol (§3.1)", async () => {
    const socket = await openSocket(uniqueTopic("proto"));
    expect(socket.response.status).toBe(101);
    expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBe(SUBPROTOCOL);
    socket.close();
  });

  it("acknowledges batches of n records with base offsets 0, n, 2n, ... (§4, §5.1)", async () => {
    const topic = uniqueTopic("acks");
    const { acks } = await produceBatches(topic);
    expect(acks.map((a) => a.baseOffset)).toEqual([0, 4, 8, 12, 16]);
    expect(acks.every((a) => a.count === PER_BATCH && !a.duplicate)).toBe(true);
    const info = await partitionInfo(topic);
    expect(new Set(acks.map((a) => a.epoch))).toEqual(new Set([info.epoch]));
    expect(info).toMatchObject({ earliestOffset: 0, highWatermark: BATCHES * PER_BATCH });
  });

  it("replays exactly the acknowledged records, in order, to a subscriber from earliest (§5.2)", async () => {
    const topic = uniqueTopic("replay");
    const { acks, sent } = await produceBatches(topic);
    const sub = await openSocket(topic);
    const subscribed = await sub.subscribed({ from: StartFrom.Earliest });
    expect(subscribed).toMatchObject({
      epoch: acks[0]?.epoch,
      startOffset: 0,
      earliestOffset: 0,
      highWatermark: sent.length,
    });
    const { records, frames } = await sub.recordsUntil(sent.length);
    expect(records.map(view)).toEqual(sent);
    expect(frames[frames.length - 1]).toMatchObject({
      nextOffset: sent.length,
      highWatermark: sent.length,
    });
    expect(await sub.framesWithin(100)).toEqual([]);
    sub.close();
  });

  it("returns the same records over HTTP GET (§11.3)", async () => {
    const topic = uniqueTopic("http-read");
    const { sent, acks } = await produceBatches(topic);
    const { records, last } = await readAllHttp(topic);
    expect(records).toEqual(sent.map((r) => ({ ...r, value: JSON.parse(r.value) })));
    expect(last).toMatchObject({
      nextOffset: sent.length,
      highWatermark: sent.length,
      earliestOffset: 0,
      epoch: acks[0]?.epoch,
    });
  });

  it("pages an HTTP read by limit and continues at nextOffset (§11.3)", async () => {
    const topic = uniqueTopic("http-page");
    const { sent } = await produceBatches(topic);
    const first = await http("GET", `/v1/topics/${topic}/partitions/0/records?offset=3&limit=5`);
    expect(first.status).toBe(200);
    expect(first.body.records.map((r: { offset: number }) => r.offset)).toEqual([3, 4, 5, 6, 7]);
    expect(first.body.nextOffset).toBe(8);
    const rest = await readAllHttp(topic, 0, first.body.nextOffset);
    expect(rest.records.map((r) => r.offset)).toEqual(sent.slice(8).map((r) => r.offset));
  });

  it("serves records produced over HTTP to a WebSocket subscriber (§5.2, §11.2)", async () => {
    const topic = uniqueTopic("http-to-ws");
    const posted = await http("POST", `/v1/topics/${topic}/records`, {
      records: [{ key: "k", value: { n: 1 } }, { value: [1, 2] }, { value: null }],
    });
    expect(posted.status).toBe(200);
    expect(posted.body.offsets).toEqual([0, 1, 2].map((offset) => ({ partition: 0, offset })));
    const sub = await openSocket(topic);
    await sub.subscribed();
    const { records } = await sub.recordsUntil(3);
    expect(records.map(view)).toEqual([
      { offset: 0, key: "k", value: '{"n":1}' },
      { offset: 1, key: null, value: "[1,2]" },
      { offset: 2, key: null, value: "null" },
    ]);
    expect(await sub.framesWithin(100)).toEqual([]);
    sub.close();
  });
});
