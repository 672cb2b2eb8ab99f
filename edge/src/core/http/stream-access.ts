/**
 * How the HTTP API reaches a stream's partition object, and the HTTP answers common to every
 * Durable Streams operation (docs/PROTOCOL.md §18).
 */
import { KaitenError } from "@kaiten/protocol";
import { formatOffset } from "../durable-stream.ts";
import { unwrap } from "../port.ts";
import type { StreamAnswer, StreamOp, StreamView } from "../stream-store.ts";
import { refOf } from "../topic-ref.ts";
import type { Topic } from "../topic-store.ts";
import type { HttpContext } from "./context.ts";
import { forget, lookupTopic } from "./topic-cache.ts";
import { Response, type WebBody, type WebResponse } from "./web.ts";

/** Runs an operation on the stream's object; a Kaiten topic of one partition is adopted. */
export async function call(ctx: HttpContext, topic: Topic, op: StreamOp): Promise<StreamAnswer> {
  const stub = ctx.port.partition(topic.name, 0);
  let answer = unwrap(await stub.stream(refOf(topic, 0), op));
  if (answer.status === "missing" && answer.expired) await unregister(ctx, topic.name);
  else if (answer.status === "missing")
    answer = unwrap(await stub.stream(refOf(topic, 0), op, true));
  return answer;
}

/** The stream's topic, or null: unknown, or a topic of several partitions (not a stream). */
export async function topicOf(ctx: HttpContext, name: string): Promise<Topic | null> {
  try {
    const topic = await lookupTopic(ctx, name, false);
    return topic.partitions === 1 ? topic : null;
  } catch (error) {
    if (error instanceof KaitenError && error.code === "UNKNOWN_TOPIC") return null;
    throw error;
  }
}

export async function unregister(ctx: HttpContext, name: string): Promise<void> {
  forget(ctx, name);
  await ctx.port.registry().remove(name);
}

export function status(code: number, headers: Record<string, string> = {}, body: WebBody = null) {
  return new Response(body, { status: code, headers });
}

export function viewHeaders(view: StreamView): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": view.contentType,
    "stream-next-offset": formatOffset(view.tail),
  };
  if (view.closed) h["stream-closed"] = "true";
  return h;
}

/** Answers common to every operation: missing, gone, conflicts, closure. */
export function answerOf(answer: StreamAnswer): WebResponse {
  switch (answer.status) {
    case "missing":
      return status(404);
    case "gone":
      return status(410);
    case "conflict":
      return status(409, answer.view ? viewHeaders(answer.view) : {}, answer.reason);
    case "exists":
      return status(200, viewHeaders(answer.view));
    case "closed":
      return status(
        409,
        { ...viewHeaders(answer.view), "stream-closed": "true" },
        "the stream is closed",
      );
    case "fenced":
      return status(403, { "producer-epoch": String(answer.epoch) }, "stale producer epoch");
    case "gap":
      return status(409, {
        "producer-expected-seq": String(answer.expected),
        "producer-received-seq": String(answer.received),
      });
    default:
      return status(500);
  }
}
