/**
 * The receive path's records: a RECORDS frame's chunk (§4) is read in place, one record at
 * a time as the application takes them, and each record is an object whose key, value and
 * headers are decoded the first time they are read. No record objects are made ahead of
 * the consumer, and a value nobody reads is never decoded.
 */

import { JSON_VALUE } from "./codes.ts";
import { Cursor, decoder, end, malformed, over, uvar } from "./cursor.ts";
import type { Rec, Serde } from "./serde.ts";

const UNSET = Symbol();

/** A received record. `key`, `value` and `headers` are decoded when first read; `toJSON()` gives a plain object. */
class Received<T = unknown> implements Rec<T> {
  #b: Uint8Array;
  #s: Serde;
  #attrs: number;
  /** Where the key (or, without one, the value) starts: the rest is found again when asked for. */
  #at: number;
  #key: string | null | typeof UNSET = UNSET;
  #value: unknown = UNSET;
  #headers: Record<string, string> | undefined;

  constructor(
    public topic: string,
    public partition: number,
    public offset: number,
    public timestamp: number,
    b: Uint8Array,
    attrs: number,
    at: number,
    s: Serde,
  ) {
    this.#b = b;
    this.#attrs = attrs;
    this.#at = at;
    this.#s = s;
  }

  /** Where the value's length starts. */
  #valueAt(): number {
    return this.#attrs & 1 ? over(this.#b, this.#at) : this.#at;
  }

  get key(): string | null {
    if (this.#key === UNSET) {
      const n = uvar(this.#b, this.#at);
      this.#key = this.#attrs & 1 ? decoder.decode(this.#b.subarray(end, end + n)) : null;
    }
    return this.#key;
  }
  set key(key: string | null) {
    this.#key = key;
  }

  get value(): T {
    if (this.#value === UNSET) {
      const b = this.#b;
      const n = uvar(b, this.#valueAt());
      // A view into the received frame, as Buffers from Node's `ws` are: a copy per value cost
      // more than reading the rest of the record (slice() one to keep it alone). A plain
      // Uint8Array even when `ws` handed over a Buffer.
      const bytes = new Uint8Array(b.buffer, b.byteOffset + end, n);
      this.#value = this.#s.deserialize(bytes, this.#attrs >> 1 === JSON_VALUE);
    }
    return this.#value as T;
  }
  set value(value: T) {
    this.#value = value;
  }

  get headers(): Record<string, string> {
    if (!this.#headers) {
      const c = new Cursor(this.#b);
      c.p = over(this.#b, this.#valueAt());
      // Pairs, then fromEntries: a header named "__proto__" stays a header (`out[k] =` would
      // set the object's prototype and drop it).
      this.#headers = Object.fromEntries(
        Array.from({ length: c.varint() }, () => [c.text(), c.text()]),
      );
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
    const b = this.b;
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
      let p = this.p;
      const attrs = b[p++] as number;
      const offset = this.base + uvar(b, p);
      const z = uvar(b, end);
      const timestamp = this.time + (z % 2 ? -(z + 1) / 2 : z / 2);
      const at = end;
      p = over(b, attrs & 1 ? over(b, at) : at);
      for (let h = uvar(b, p) * 2, q = end; h > 0; h--) p = q = over(b, q);
      this.p = Math.max(p, end);
      if (this.p > b.length) throw malformed();
      if (offset >= this.min)
        return new Received<T>(topic, partition, offset, timestamp, b, attrs, at, serde);
    }
  }
}
