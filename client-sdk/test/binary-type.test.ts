/**
 * The binaryType a link gives its socket: "arraybuffer" for a browser's WebSocket, which warns
 * about any value outside its enum (Chromium prints "The provided value 'nodebuffer' is not a
 * valid enum value of type BinaryType" on every page), and `ws`'s own "nodebuffer" on Node,
 * whose Buffers the receive path reads without a copy.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { Link, type LinkOptions, type LinkUser, type WebSocketClass } from "../src/link.ts";

const options = (WebSocket: WebSocketClass): LinkOptions => ({
  WebSocket,
  pingIntervalMs: 15_000,
  pongTimeoutMs: 5_000,
  openTimeoutMs: 5_000,
  minDelayMs: 500,
  maxDelayMs: 15_000,
  random: Math.random,
  lost: () => {},
});

const user = (): LinkUser => ({ opened() {}, frame: () => true, dropped() {} });

const links: Link[] = [];
afterEach(() => {
  for (const l of links.splice(0)) l.close();
});

function connect(url: string, WebSocket: WebSocketClass): Link {
  const link = new Link(url, options(WebSocket), () => {});
  links.push(link);
  link.users.add(user());
  link.connect();
  return link;
}

/** A WHATWG WebSocket's binaryType: an enum attribute, where a browser ignores (and warns about) any other value. */
class BrowserSocket {
  static last: BrowserSocket | undefined;
  /** Every value assigned, valid or not. */
  readonly assigned: string[] = [];
  #binaryType = "blob";
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;

  constructor() {
    BrowserSocket.last = this;
  }

  get binaryType(): string {
    return this.#binaryType;
  }

  set binaryType(value: string) {
    this.assigned.push(value);
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  send(): void {}
  close(): void {}
}

describe("a link's binaryType", () => {
  it("is 'arraybuffer' on a browser's WebSocket, and nothing outside its enum is ever assigned", () => {
    connect("ws://broker/v1/topics/t/partitions/0/ws", BrowserSocket);
    const socket = BrowserSocket.last as BrowserSocket;
    expect(socket.binaryType).toBe("arraybuffer");
    expect(socket.assigned).toEqual(["arraybuffer"]);
  });

  it("stays `ws`'s 'nodebuffer' on Node, so binary messages arrive as Buffers", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(server, "listening");
    try {
      const made: WebSocket[] = [];
      class Recorded extends WebSocket {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args);
          made.push(this);
        }
      }
      server.on("connection", (s) => s.send(new Uint8Array([0x85, 0, 0, 0, 1])));
      connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, Recorded);
      const ws = made[0] as WebSocket;
      expect(ws.binaryType).toBe("nodebuffer");
      // What the link's onmessage is handed: the Buffer itself, not an ArrayBuffer copy.
      const [data] = (await once(ws, "message")) as [unknown];
      expect(Buffer.isBuffer(data)).toBe(true);
    } finally {
      for (const c of server.clients) c.terminate();
      server.close();
    }
  });
});
