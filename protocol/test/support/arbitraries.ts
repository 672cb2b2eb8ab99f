/**
 * fast-check arbitraries for every frame type and for records, covering each field's whole
 * legal range: u32 fields up to 2^32 - 1, u64 fields up to 2^53 - 1, strings with non-ASCII
 * and astral characters (never lone surrogates, which UTF-8 cannot carry), producer ids up
 * to the 64-byte limit, keys up to the 4096-byte limit.
 */
import fc from "fast-check";
import {
  type AuthedFrame,
  type AuthFrame,
  type CreditFrame,
  concat,
  ErrorCode,
  type ErrorFrame,
  type ErrorName,
  encodeBatch,
  type Frame,
  FrameType,
  Limits,
  type ProduceAckFrame,
  type ProduceFrame,
  type RecordsFrame,
  type StartFrom,
  type SubscribedFrame,
  type SubscribeFrame,
  type UnsubscribedFrame,
  type UnsubscribeFrame,
  type WireRecord,
} from "../../src/index.ts";

const utf8 = new TextEncoder();

/** fc.record with ordinary prototypes, so decoded frames can be compared with toStrictEqual. */
function object<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
/** The whole range of a u64 field: 0..2^53 - 1. */
export const u64 = fc.maxSafeNat();
/**
 * One code point: any from the whole Unicode range (no lone surrogates, which UTF-8 cannot
 * carry), plus a few that decoders are known to mishandle, so they turn up often: U+FEFF (a
 * byte-order mark that a default TextDecoder strips), NUL, and astral characters.
 */
const codePoint = fc.oneof(
  { arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), weight: 8 },
  { arbitrary: fc.constantFrom("\uFEFF", "\u0000", "é", "日", "😀", "\uFFFD"), weight: 2 },
);
/** Any well-formed Unicode text, up to `maxLength` code points. */
export const text = (maxLength = 40) => fc.string({ unit: codePoint, maxLength });

/** The longest prefix (by code point) of `s` whose UTF-8 fits in `max` bytes. */
export function fitUtf8(s: string, max: number): string {
  let out = "";
  let size = 0;
  for (const ch of s) {
    size += utf8.encode(ch).length;
    if (size > max) break;
    out += ch;
  }
  return out;
}

/** Producer ids: empty (not idempotent) up to exactly 64 UTF-8 bytes. */
export const producerId = fc.oneof(
  text(64).map((s) => fitUtf8(s, Limits.maxProducerIdBytes)),
  fc.string({ unit: "grapheme-ascii", minLength: 64, maxLength: 64 }),
);

export const bytes = (maxLength = 64) => fc.uint8Array({ maxLength });

/** Timestamps whose pairwise differences zigzag-encode within 2^53 - 1. */
export const timestamp = fc.integer({ min: 0, max: 2 ** 52 - 1 });

export const headers = fc.array(fc.tuple(text(12), text(24)), { maxLength: 6 });

export const record: fc.Arbitrary<WireRecord> = fc.oneof(
  object({
    key: fc.option(bytes(32), { nil: null }),
    value: bytes(96),
    format: fc.constant(0 as const),
    headers,
    timestamp,
  }),
  object({
    key: fc.option(bytes(32), { nil: null }),
    // JSON values are UTF-8 JSON text; the wire does not parse them, but keep them realistic.
    value: fc
      .oneof(
        fc.integer(),
        text(12),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.double(), { maxLength: 3 }),
      )
      .map((j) => utf8.encode(JSON.stringify(j))),
    format: fc.constant(1 as const),
    headers,
    timestamp,
  }),
);

export const records = (maxLength = 12) => fc.array(record, { minLength: 1, maxLength });

/** A chunk: one or more batches with increasing, contiguous base offsets. */
export const chunk = fc
  .tuple(fc.array(records(6), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 2 ** 40 }))
  .map(([groups, base]) => {
    let next = base;
    const batches = groups.map((rs) => {
      const b = encodeBatch(rs, next);
      next += rs.length;
      return b;
    });
    const stored = groups.flat().map((r, i) => ({ ...r, offset: base + i }));
    return { bytes: concat(batches), stored };
  });

const startFrom = fc.constantFrom<StartFrom>(0, 1, 2, 3);
const errorName = fc.constantFrom(...(Object.keys(ErrorCode) as ErrorName[]));

export const produceFrame: fc.Arbitrary<ProduceFrame> = object({
  type: fc.constant(FrameType.Produce),
  requestId: u32,
  producerId,
  producerEpoch: u32,
  sequence: u32,
  // A real batch most of the time; the frame layer treats it as opaque bytes, so any bytes too.
  batch: fc.oneof(
    records(4).map((rs) => encodeBatch(rs)),
    bytes(64),
  ),
});

export const subscribeFrame: fc.Arbitrary<SubscribeFrame> = object({
  type: fc.constant(FrameType.Subscribe),
  requestId: u32,
  from: startFrom,
  position: u64,
  epoch: u32,
  credit: u32,
  key: fc.option(
    fc.oneof(
      { arbitrary: bytes(32), weight: 9 },
      // A key filter at the 4096-byte limit; filled, since 4096 random bytes add nothing.
      { arbitrary: u8.map((b) => new Uint8Array(Limits.maxKeyBytes).fill(b)), weight: 1 },
    ),
    { nil: null },
  ),
});

export const creditFrame: fc.Arbitrary<CreditFrame> = object({
  type: fc.constant(FrameType.Credit),
  credit: u32,
});

export const unsubscribeFrame: fc.Arbitrary<UnsubscribeFrame> = object({
  type: fc.constant(FrameType.Unsubscribe),
  requestId: u32,
});

export const produceAckFrame: fc.Arbitrary<ProduceAckFrame> = object({
  type: fc.constant(FrameType.ProduceAck),
  requestId: u32,
  baseOffset: u64,
  count: u32,
  epoch: u32,
  duplicate: fc.boolean(),
});

export const subscribedFrame: fc.Arbitrary<SubscribedFrame> = object({
  type: fc.constant(FrameType.Subscribed),
  requestId: u32,
  epoch: u32,
  startOffset: u64,
  earliestOffset: u64,
  highWatermark: u64,
});

export const recordsFrame: fc.Arbitrary<RecordsFrame> = object({
  type: fc.constant(FrameType.Records),
  nextOffset: u64,
  highWatermark: u64,
  batches: fc.oneof(
    chunk.map((c) => c.bytes),
    bytes(64),
  ),
});

/** ERROR frames whose message fits the 1024-byte limit, so they survive unchanged. */
export const errorFrame: fc.Arbitrary<ErrorFrame> = object({
  type: fc.constant(FrameType.Error),
  requestId: u32,
  code: errorName,
  retriable: fc.boolean(),
  detail: u64,
  message: fc.oneof(
    text(80),
    text(400).map((s) => fitUtf8(s, Limits.maxErrorMessageBytes)),
  ),
});

export const authFrame: fc.Arbitrary<AuthFrame> = object({
  type: fc.constant(FrameType.Auth),
  requestId: u32,
  token: fc.oneof(
    text(80),
    text(3000).map((s) => fitUtf8(s, Limits.maxTokenBytes)),
  ),
});

export const authedFrame: fc.Arbitrary<AuthedFrame> = object({
  type: fc.constant(FrameType.Authed),
  requestId: u32,
  expiresAt: u64,
});

export const unsubscribedFrame: fc.Arbitrary<UnsubscribedFrame> = object({
  type: fc.constant(FrameType.Unsubscribed),
  requestId: u32,
});

/** One arbitrary per frame type, by name, so each type gets its own property. */
export const frameArbitraries = {
  Produce: produceFrame,
  Subscribe: subscribeFrame,
  Credit: creditFrame,
  Unsubscribe: unsubscribeFrame,
  ProduceAck: produceAckFrame,
  Subscribed: subscribedFrame,
  Records: recordsFrame,
  Error: errorFrame,
  Unsubscribed: unsubscribedFrame,
  Auth: authFrame,
  Authed: authedFrame,
} satisfies {
  [K in keyof typeof FrameType]: fc.Arbitrary<Extract<Frame, { type: (typeof FrameType)[K] }>>;
};

export const anyFrame: fc.Arbitrary<Frame> = fc.oneof(...Object.values(frameArbitraries));
