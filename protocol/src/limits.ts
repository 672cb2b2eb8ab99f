/** Hard limits of protocol v1 (docs/PROTOCOL.md §7). Every buffer and frame is bounded. */
export const Limits = {
  /** Largest binary frame a client may send, in bytes. */
  maxFrameBytes: 1_048_576,
  /** Largest record (key + value + headers) a topic may be configured to accept. */
  maxRecordBytes: 1_000_000,
  /** Most records in one produce batch. */
  maxBatchRecords: 10_000,
  /** Longest key, in bytes. */
  maxKeyBytes: 4_096,
  /** Most headers on one record. */
  maxHeaders: 64,
  /** Longest producer id, in UTF-8 bytes. */
  maxProducerIdBytes: 64,
  /** Longest error message in an ERROR frame, in UTF-8 bytes. */
  maxErrorMessageBytes: 1_024,
  /** Most credit (bytes) a subscriber may hold at once; grants beyond it are clamped. */
  maxCreditBytes: 64 * 1_048_576,
  /** Largest stored chunk (one storage row, one live frame), in bytes of batches. */
  maxChunkBytes: 1_048_576,
  /** Partitions per topic. */
  maxPartitions: 256,
  /** Longest token (a JWT or a site key) in an AUTH frame, in UTF-8 bytes. */
  maxTokenBytes: 8_192,
  /** Longest topic name. */
  maxTopicNameLength: 249,
} as const;

/** Topic names: Kafka's legal characters and length. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== "." && name !== "..";
}

/** The WebSocket subprotocol of this version; clients offer it in Sec-WebSocket-Protocol. */
export const SUBPROTOCOL = "kaiten.v1";

/** Keep-alive text frames, answered by the runtime without waking a hibernated object. */
export const PING = "ping";
export const PONG = "pong";
