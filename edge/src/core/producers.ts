/**
 * Idempotent producer rules (docs/PROTOCOL.md §6). A producer is (id, epoch); its batches
 * carry sequences. A retried batch is answered with its original offsets and stored once;
 * an older epoch is fenced; a gap is refused.
 */
import { KaitenError } from "@kaiten/protocol";
import type { ProducerState } from "./types.ts";

/**
 * How many recent batches per producer can be answered as duplicates. Kafka keeps 5, its
 * maximum in flight; 8 leaves room for a client that resends its last acknowledged batch
 * after a crash, when up to its in-flight limit more may have been committed meanwhile.
 */
export const RECENT_BATCHES = 8;

/**
 * `strict`: each batch's sequence is the previous + 1 (a WebSocket producer talks to one
 * partition). `monotonic`: sequences only increase (an HTTP request spans partitions, so
 * each partition sees some of the producer's sequences).
 */
export type Sequencing = "strict" | "monotonic";

export type SequenceCheck =
  | { kind: "new" }
  | { kind: "duplicate"; baseOffset: number; count: number };

export function checkSequence(
  state: ProducerState | null,
  epoch: number,
  sequence: number,
  sequencing: Sequencing,
): SequenceCheck {
  if (!state || epoch > state.epoch) {
    if (sequencing === "strict" && sequence !== 0) {
      throw new KaitenError("SEQUENCE_GAP", "a new producer epoch starts at sequence 0", 0);
    }
    return { kind: "new" };
  }
  if (epoch < state.epoch) {
    throw new KaitenError("PRODUCER_FENCED", `producer epoch ${epoch} is fenced`, state.epoch);
  }
  if (sequence <= state.lastSequence) {
    const hit = state.recent.find((b) => b.sequence === sequence);
    if (!hit) {
      throw new KaitenError("DUPLICATE_TOO_OLD", `sequence ${sequence} is too old to answer`);
    }
    return { kind: "duplicate", baseOffset: hit.baseOffset, count: hit.count };
  }
  if (sequencing === "strict" && sequence !== state.lastSequence + 1) {
    const expected = state.lastSequence + 1;
    throw new KaitenError("SEQUENCE_GAP", `expected sequence ${expected}`, expected);
  }
  return { kind: "new" };
}

/** The producer's state after a batch of `count` records was given `baseOffset`. */
export function advance(
  state: ProducerState | null,
  producerId: string,
  epoch: number,
  batch: { sequence: number; baseOffset: number; count: number },
  now: number,
): ProducerState {
  const sameEpoch = state !== null && state.epoch === epoch;
  const recent = sameEpoch ? [...state.recent, batch].slice(-RECENT_BATCHES) : [batch];
  return { producerId, epoch, lastSequence: batch.sequence, recent, updatedAt: now };
}
