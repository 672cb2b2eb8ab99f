/**
 * The protocol's FrameType, StartFrom and ValueFormat values (PROTOCOL.md §4, §5) that the
 * main entry uses, as plain constants: the bundler writes each in as its number, where every
 * `FrameType.X` of the protocol's objects costs a property lookup and the objects themselves
 * sit in the bundle (about 90 bytes of the entry's budget, min+gzip). test/frames.test.ts
 * checks each one against the protocol's objects.
 */
export const PRODUCE = 1;
export const SUBSCRIBE = 2;
export const CREDIT = 3;
export const UNSUBSCRIBE = 4;
export const PRODUCE_ACK = 129;
export const SUBSCRIBED = 130;
export const RECORDS = 131;
export const ERROR = 132;
export const UNSUBSCRIBED = 133;
export const AUTHED = 134;

export const FROM_EARLIEST = 0;
export const FROM_LATEST = 1;
export const FROM_OFFSET = 2;
export const FROM_TIMESTAMP = 3;

export const BYTES = 0;
export const JSON_VALUE = 1;
