/**
 * Refused WebSockets (docs/PROTOCOL.md §3.1, §9, §11.5): a browser cannot read the HTTP error
 * of a failed upgrade, so a socket the broker cannot serve is accepted, sent one ERROR frame
 * (requestId 0) and closed with 4000 + the error's number.
 */

import { SELF } from "cloudflare:test";
import { ErrorCode, type ErrorName, FrameType, SUBPROTOCOL } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  createTopic,
  http,
  makeRecords,
  ORIGIN,
  openUrl,
  type TestSocket,
  uniqueTopic,
  wsUrl,
} from "./helpers.ts";

async function expectRefused(socket: TestSocket, code: ErrorName) {
  const closed = await socket.closed;
  expect(closed).toEqual({ code: 4000 + ErrorCode[code], reason: code });
  expect(socket.queued).toHaveLength(1);
  expect(socket.queued[0]).toMatchObject({
    type: FrameType.Error,
    requestId: 0,
    code,
    retriable: false,
  });
}

describe("a refused WebSocket", () => {
  it("to a partition the topic does not have gets INVALID_PARTITION and close code 4008", async () => {
    const topic = uniqueTopic("refuse");
    await createTopic(topic, { partitions: 2 });
    await expectRefused(await openUrl(wsUrl(topic, 2)), "INVALID_PARTITION");
  });

  it("to a partition that is not a number gets INVALID_PARTITION and close code 4008", async () => {
    const topic = uniqueTopic("refuse-nan");
    const url = `${ORIGIN}/v1/topics/${topic}/partitions/abc/ws`;
    await expectRefused(await openUrl(url), "INVALID_PARTITION");
  });

  it("to an illegal topic name gets INVALID_TOPIC and close code 4006", async () => {
    await expectRefused(await openUrl(wsUrl("no spaces allowed")), "INVALID_TOPIC");
    await expectRefused(await openUrl(wsUrl("x".repeat(250))), "INVALID_TOPIC");
  });

  it("to a topic name that is not valid percent-encoding gets INVALID_TOPIC and close code 4006", async () => {
    const url = `${ORIGIN}/v1/topics/%E0%A4%A/partitions/0/ws`;
    await expectRefused(await openUrl(url), "INVALID_TOPIC");
  });

  it("offering subprotocols without kaiten.v1 gets UNSUPPORTED_VERSION and close code 4023", async () => {
    const socket = await openUrl(wsUrl(uniqueTopic("version")), "kaiten.v9, chat");
    await expectRefused(socket, "UNSUPPORTED_VERSION");
  });
});

describe("the WebSocket route", () => {
  it("accepts a client that offers no subprotocol, and selects none", async () => {
    const socket = await openUrl(wsUrl(uniqueTopic("no-proto")), null);
    expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    expect(await socket.produceAck(makeRecords(1))).toMatchObject({ baseOffset: 0 });
    socket.close();
  });

  it("selects kaiten.v1 among several offered subprotocols", async () => {
    const socket = await openUrl(wsUrl(uniqueTopic("multi")), `chat, ${SUBPROTOCOL}`);
    expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBe(SUBPROTOCOL);
    socket.close();
  });

  it("answers a GET without an upgrade with 426 (§11.5)", async () => {
    const res = await http("GET", `/v1/topics/${uniqueTopic("plain")}/partitions/0/ws`);
    expect(res.status).toBe(426);
    expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", numericCode: 18 });
  });

  it("answers another method with 405 (§11.5)", async () => {
    const res = await SELF.fetch(wsUrl(uniqueTopic("post")), { method: "POST" });
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({
      error: { code: "INVALID_REQUEST", numericCode: 18, retriable: false },
    });
  });
});
