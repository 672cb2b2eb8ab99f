/**
 * Kafka's murmur2 partitioner, a chunk of its own (dist/keys.js): the main entry loads it
 * (producer.ts `partitioner`) with the first record or subscription that has a key, in
 * parallel with the topic's lookup, so keyless producers and readers never carry it.
 */
export { partitionForKey } from "@kaiten/protocol";
