/**
 * The bench's durable floors (test/bench/relay-log.ts, relay-core.ts): the `uws-fsync` and
 * `uws-sqlite` relays must store what they acknowledge, and acknowledge only after their
 * sync, or `Node host / uWS + fsync` and `/ uWS + SQLite` would compare the host with less
 * than the least a durable broker does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  concat,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  ValueFormat,
} from "@kaiten/protocol";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { RelayCore, type RelayLog } from "../bench/relay-core.ts";
import { fileLog, sqliteLog } from "../bench/relay-log.ts";
import { tempDirs } from "./files.ts";

const tempDir = tempDirs("kaiten-relay-log-");

function batch(n: number, value: number): Uint8Array {
  return encodeBatch(
    Array.from({ length: n }, () => ({
      key: null,
      value: new Uint8Array([value]),
      format: ValueFormat.Bytes,
      headers: [],
      timestamp: 1,
    })),
  );
}

function produce(requestId: number, b: Uint8Array): Uint8Array {
  return encodeFrame({
    type: FrameType.Produce,
    requestId,
    batch: b,
    producerId: "",
    producerEpoch: 0,
    sequence: 0,
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("the bench's durable relay logs", () => {
  it("sqliteLog commits a channel's batches of a sync as one row, in order, per channel", () => {
    const dir = tempDir();
    const log = sqliteLog(dir);
    const [a1, a2, b1, a3] = [batch(2, 1), batch(3, 2), batch(1, 3), batch(1, 4)];
    log.append("/a", a1);
    log.append("/a", a2);
    log.append("/b", b1);
    log.sync();
    log.append("/a", a3);
    log.sync();
    const rows = (file: string) =>
      new Database(join(dir, file), { readonly: true })
        .prepare("SELECT data FROM log ORDER BY id")
        .all()
        .map((r) => new Uint8Array((r as { data: Buffer }).data));
    expect(rows("channel-0.sqlite")).toEqual([concat([a1, a2]), a3]);
    expect(rows("channel-1.sqlite")).toEqual([b1]);
  });

  it("fileLog appends each channel's batches to its own file", () => {
    const dir = tempDir();
    const log = fileLog(dir);
    const [a1, b1, a2] = [batch(1, 1), batch(2, 2), batch(1, 3)];
    log.append("/a", a1);
    log.append("/b", b1);
    log.append("/a", a2);
    log.sync();
    expect(new Uint8Array(readFileSync(join(dir, "channel-0.log")))).toEqual(concat([a1, a2]));
    expect(new Uint8Array(readFileSync(join(dir, "channel-1.log")))).toEqual(b1);
  });

  it("a relay with a log acknowledges a turn's batches only after that turn's sync", async () => {
    const events: string[] = [];
    const log: RelayLog = {
      open: () => {},
      append: (path, b) => events.push(`append ${path} ${b.length}`),
      sync: () => events.push("sync"),
    };
    const core = new RelayCore(log);
    const peer = {
      send: (frame: Uint8Array) => {
        const f = decodeFrame(frame);
        if (f.type === FrameType.ProduceAck) events.push(`ack ${f.requestId} at ${f.baseOffset}`);
      },
      sendText: () => {},
    };
    const [b1, b2] = [batch(2, 1), batch(3, 2)];
    core.message("/a", peer, produce(1, b1));
    core.message("/a", peer, produce(2, b2));
    expect(events).toEqual([`append /a ${b1.length}`, `append /a ${b2.length}`]);
    await turn();
    expect(events.slice(2)).toEqual(["sync", "ack 1 at 0", "ack 2 at 2"]);
  });
});
