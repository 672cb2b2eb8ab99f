/** Path segments of the API's URLs, read alike by every host (docs/PROTOCOL.md §11). */
import { KaitenError } from "@kaiten/protocol";

/** The topic name of a path segment; bad percent-encoding is an illegal name, not a 500. */
export function topicName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new KaitenError("INVALID_TOPIC", "the topic name is not valid percent-encoding");
  }
}

export function partitionNumber(text: string): number {
  if (!/^\d{1,3}$/.test(text)) {
    throw new KaitenError("INVALID_PARTITION", "a partition is a non-negative integer");
  }
  return Number(text);
}
