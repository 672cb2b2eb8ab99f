export { fromBase64, toBase64 } from "./base64.ts";
export * from "./batch.ts";
export { decodeUtf8, Reader, Writer } from "./bytes.ts";
export * from "./errors.ts";
export * from "./frames.ts";
export * from "./limits.ts";
export { murmur2, partitionForKey } from "./partitioner.ts";
export { matches } from "./patterns.ts";
