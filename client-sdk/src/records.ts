/**
 * The receive path's records: a RECORDS frame's chunk (§4) is read in place, one record at
 * a time as the application takes them, and each record is an object whose key, value and
 * headers are decoded the first time they are read. No record objects are made ahead of
 * the consumer, and a value nobody reads is never decoded.
 */
import { ValueFormat } from "@kaiten/protocol";
import { Cursor, decoder } from "./cursor.ts";
import type { Rec, Serde } from "./serde.ts";

const UNSET = Symbol();

/** A received record. `key`, `value` and `headers` are decoded when first read; `toJSON()` gives a plain object. */
class Received<T = unknown> implements Rec<T> {
  #b: Uint8Array;
  #s: Serde;
  #attrs: number;
  #keyAt: number;
  #keyLength: number;
  #valueAt: number;
  #valueLength: number;
  #headersAt: number;
  #key: string | null | typeof UNSET = UNSET;
  #value: unknown = UNSET;
  #headers: Record<string, string> | undefined;

  constructor(
    public topic: string,
    public partition: number,
    public offset: number,
    public timestamp: number,
    c: Chunk,
    s: Serde,
  ) {
    this.#b = c.b;
    this.#s = s;
    this.#attrs = c.attrs;
    this.#keyAt = c.keyAt;
    this.#keyLength = c.keyLength;
    this.#valueAt = c.valueAt;
    this.#valueLength = c.valueLength;
    this.#headersAt = c.headersAt;
  }

  get key(): string | null {
    if (this.#key === UNSET)
      this.#key =
        this.#attrs & 1
          ? decoder.decode(this.#b.subarray(this.#keyAt, this.#keyAt + this.#keyLength))
          : null;
    return this.#key;
  }
  set key(key: string | null) {
    this.#key = key;
  }

  get value(): T {
    if (this.#value === UNSET) {
      const b = this.#b;
      // A plain Uint8Array even when `ws` handed over a Buffer.
      const bytes = new Uint8Array(b.buffer, b.byteOffset + this.#valueAt, this.#valueLength);
      const json = this.#attrs >> 1 === ValueFormat.Json;
      // Bytes are a view into the received frame, as Buffers from Node's `ws` are: a copy per
      // value cost more than reading the rest of the record (slice() one to keep it alone).
      this.#value = this.#s.deserialize(bytes, json);
    }
    return this.#value as T;
  }
  set value(value: T) {
    this.#value = value;
  }

  get headers(): Record<string, string> {
    if (!this.#headers) {
      const c = new Cursor(this.#b);
      c.p = this.#headersAt;
      const out: Record<string, string> = {};
      for (let n = c.varint(); n > 0; n--) {
        const k = c.text();
        out[k] = c.text();
      }
      this.#headers = out;
    }
    return this.#headers;
  }
  set headers(headers: Record<string, string>) {
    this.#headers = headers;
  }

  toJSON(): Rec<T> {
    const { topic, partition, offset, key, value, headers, timestamp } = this;
    return { topic, partition, offset, key, value, headers, timestamp };
  }
}

/** A cursor over the records of one chunk (§4.1, §4.2), skipping offsets below `min`. */
export class Chunk extends Cursor {
  /** Records left in the current batch, its base offset and base timestamp. */
  n = 0;
  base = 0;
  time = 0;
  attrs = 0;
  keyAt = 0;
  keyLength = 0;
  valueAt = 0;
  valueLength = 0;
  headersAt = 0;

  constructor(
    b: Uint8Array,
    readonly min: number,
  ) {
    super(b);
  }

  /** Whether every record was read. */
  get spent(): boolean {
    return !this.n && this.p >= this.b.length;
  }

  /** The next record, or null at the end of the chunk. */
  next<T>(topic: string, partition: number, serde: Serde): Rec<T> | null {
    for (;;) {
      if (!this.n) {
        if (this.spent) return null;
        this.base = this.u64();
        this.time = this.u64();
        this.n = this.u32();
        // The records' length: the records themselves say where they end.
        this.p += 4;
        continue;
      }
      this.n--;
      this.attrs = this.u8();
      const offset = this.base + this.varint();
      const z = this.varint();
      const timestamp = this.time + (z % 2 ? -(z + 1) / 2 : z / 2);
      this.keyLength = this.attrs & 1 ? this.skip() : 0;
      this.keyAt = this.p - this.keyLength;
      this.valueLength = this.skip();
      this.valueAt = this.p - this.valueLength;
      this.headersAt = this.p;
      for (let h = this.varint() * 2; h > 0; h--) this.skip();
      this.check();
      if (offset >= this.min)
        return new Received<T>(topic, partition, offset, timestamp, this, serde);
    }
  }
}
