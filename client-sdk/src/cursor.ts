/**
 * Reading big-endian fields and varints (§3.3) from received bytes, in place. It replaces the
 * protocol package's Reader in the SDK's bundle: the frames and chunks a broker sends are
 * trusted to be well formed, so bounds are checked once per frame or record (`check`), not
 * per field, and a value past 2^53 is not looked for.
 */
import { KaitenClientError } from "./errors.ts";

// ignoreBOM keeps a leading U+FEFF as text, as the protocol's decoder does (the default strips it).
export const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export const malformed = () => new KaitenClientError("MALFORMED_FRAME", "malformed frame");

export class Cursor {
  p = 0;

  constructor(readonly b: Uint8Array) {}

  /** Throws unless the fields read so far were all inside the bytes. */
  check(): void {
    if (this.p > this.b.length) throw malformed();
  }

  u8(): number {
    return this.b[this.p++] as number;
  }

  u16(): number {
    return this.u8() * 256 + this.u8();
  }

  u32(): number {
    return this.u16() * 65_536 + this.u16();
  }

  u64(): number {
    return this.u32() * 2 ** 32 + this.u32();
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = this.u8();
      n += (byte & 127) * scale;
      scale *= 128;
    } while (byte > 127);
    return n;
  }

  /** Moves past a length-prefixed field (varint length); returns its length. */
  skip(n = this.varint()): number {
    this.p += n;
    return n;
  }

  /** A length-prefixed field as text. */
  text(n = this.varint()): string {
    return decoder.decode(this.b.subarray(this.p, this.p + this.skip(n)));
  }
}
