/**
 * A stand-in for the WebSocket class in unit tests: every instance is recorded, and the test
 * decides when it opens, what it receives and how it closes. Only for the reconnect and
 * batching logic under fake timers; everything else runs against a real broker.
 */
import { decodeFrame, encodeFrame, type Frame, type ServerFrame } from "@kaiten/protocol";

export class FakeSocket {
  static all: FakeSocket[] = [];
  binaryType = "blob";
  sent: Array<string | Uint8Array> = [];
  closed = false;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocol: string,
  ) {
    FakeSocket.all.push(this);
  }

  static get last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1] as FakeSocket;
  }

  /** Sockets neither side closed. */
  static get live(): FakeSocket[] {
    return FakeSocket.all.filter((s) => !s.closed);
  }

  send(data: string | Uint8Array): void {
    if (this.closed) throw new Error("closed");
    this.sent.push(data);
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.onopen?.({});
  }

  /** The broker closes the socket. */
  drop(code = 1006, reason = ""): void {
    this.closed = true;
    this.onclose?.({ code, reason });
  }

  receive(frame: ServerFrame | "pong"): void {
    const data = frame === "pong" ? frame : encodeFrame(frame).slice().buffer;
    this.onmessage?.({ data });
  }

  /** The binary frames sent, decoded. */
  frames(): Frame[] {
    return this.sent
      .filter((d): d is Uint8Array => typeof d !== "string")
      .map((d) => decodeFrame(d));
  }
}
