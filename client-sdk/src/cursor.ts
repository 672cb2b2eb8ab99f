/**
 * Reading big-endian fields and varints (§3.3) from received bytes, in place. It replaces the
 * protocol package's Reader in the SDK's bundle: the frames and chunks a broker sends are
 * trusted to be well formed, so bounds are checked once per frame or record (decodeServerFrame, Chunk.next), not
 * per field, and a value past 2^53 is not looked for.
 */
import { KaitenClientError } from "./errors.ts";

// ignoreBOM keeps a leading U+FEFF as text, as the protocol's decoder does (the default strips it).
export const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export const malformed = () => new KaitenClientError("MALFORMED_FRAME", "malformed frame");

/** Where the last varint read by `uvar` ended. */
export let end = 0;

/** An unsigned varint (§3.3) at `p`; one-byte ones, most of them, take the short way. */
export function uvar(b: Uint8Array, p: number): number {
  let byte = b[p++] as number;
  let n = byte & 127;
  for (let scale = 128; byte > 127; scale *= 128) {
    byte = b[p++] as number;
    n += (byte & 127) * scale;
  }
  end = p;
  return n;
}

/** Moves past a length-prefixed field at `p`; returns where it ends. */
export const over = (b: Uint8Array, p: number): number => uvar(b, p) + end;

export class Cursor {
  p = 0;

  constructor(readonly b: Uint8Array) {}

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
    const n = uvar(this.b, this.p);
    this.p = end;
    return n;
  }

  /** A length-prefixed field as text. */
  text(n = this.varint()): string {
    this.p += n;
    return decoder.decode(this.b.subarray(this.p - n, this.p));
  }
}
