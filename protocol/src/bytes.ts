/**
 * Big-endian binary reading and writing. 64-bit fields carry integers up to 2^53 - 1 (the
 * largest a JavaScript number holds exactly); a larger value is a decode error, never a
 * silent rounding.
 */
import { KaitenError } from "./errors.ts";

const TWO_32 = 0x1_0000_0000;
export const utf8 = new TextEncoder();
// ignoreBOM: true keeps a leading U+FEFF as text. With false (the default) the decoder strips
// it, so such a string would not survive a round trip and two producer ids would collide.
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw malformed("invalid UTF-8");
  }
}

export function malformed(why: string): KaitenError {
  return new KaitenError("MALFORMED_FRAME", `malformed frame: ${why}`);
}

/** Bytes a varint of `n` takes (unsigned LEB128). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 16);
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(n: number): this {
    this.ensure(1);
    this.buf[this.pos++] = n;
    return this;
  }

  u16(n: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, n);
    this.pos += 2;
    return this;
  }

  u32(n: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, n);
    this.pos += 4;
    return this;
  }

  u64(n: number): this {
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(n / TWO_32));
    this.view.setUint32(this.pos + 4, n % TWO_32);
    this.pos += 8;
    return this;
  }

  /** Unsigned LEB128; arithmetic rather than bit operations so values past 2^32 survive. */
  varint(n: number): this {
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
    return this;
  }

  /** Zigzag-encoded signed varint. */
  svarint(n: number): this {
    return this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Length-prefixed (varint) bytes. */
  lenBytes(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  /** Overwrites a u32 written earlier (for lengths known only afterwards). */
  patchU32(at: number, n: number): void {
    this.view.setUint32(at, n);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class Reader {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw malformed("truncated");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const n = this.view.getUint16(this.pos);
    this.pos += 2;
    return n;
  }

  u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.pos);
    this.pos += 4;
    return n;
  }

  u64(): number {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    if (hi >= 0x20_0000) throw malformed("64-bit value beyond 2^53");
    return hi * TWO_32 + lo;
  }

  varint(): number {
    // Most varints in a batch (offset deltas, small lengths) are one byte: take them at once.
    const first = this.buf[this.pos] as number;
    if (first < 0x80 && this.pos < this.end) {
      this.pos++;
      return first;
    }
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (n > Number.MAX_SAFE_INTEGER) throw malformed("varint beyond 2^53");
        if (i > 0 && b === 0) throw malformed("non-minimal varint");
        return n;
      }
      scale *= 128;
    }
    throw malformed("varint longer than 8 bytes");
  }

  svarint(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Moves past the next n bytes without making a view of them. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  lenBytes(max: number): Uint8Array {
    const n = this.varint();
    if (n > max) throw malformed("field longer than its limit");
    return this.bytes(n);
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
}
