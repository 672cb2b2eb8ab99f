/**
 * @kaiten/client: produce and subscribe with resumable offsets, for browsers, Node and Workers.
 *
 *   const client = createClient({ url: "http://127.0.0.1:8787" });
 *   await client.produce("clicks", [{ key: "user-1", value: { x: 1 } }]);
 *   for await (const rec of client.subscribe("clicks", { from: "earliest" })) console.log(rec);
 */
export type { Ack } from "./batcher.ts";
export { Client, type ClientEvents, type ClientOptions, createClient } from "./client.ts";
export { ClientCode, type ErrorCode, KaitenClientError } from "./errors.ts";
export { State, type Status } from "./events.ts";
export type { WebSocketClass } from "./link.ts";
export type { TopicInfo } from "./producer.ts";
export type { Gap, Position, Positions, Reset } from "./reader.ts";
export { jsonSerde, type ProduceRecord, type Rec, type Serde } from "./serde.ts";
export type {
  From,
  PositionStorage,
  RecordCallback,
  SubscribeOptions,
  Subscription,
  SubscriptionEvents,
} from "./subscription.ts";
