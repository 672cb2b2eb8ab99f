/** JSON bodies of the HTTP API (docs/PROTOCOL.md §11): answers, errors, request bodies. */
import { ErrorCode, ErrorInfo, KaitenError } from "@kaiten/protocol";
import { Response, type WebRequest, type WebResponse } from "./web.ts";

/** Largest HTTP request body, in bytes. */
export const MAX_BODY_BYTES = 1_048_576;

export function json(body: unknown, status = 200): WebResponse {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The `error` object of every HTTP error body (PROTOCOL.md §11.6). */
export function errorBody(e: KaitenError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    code: e.code,
    numericCode: ErrorCode[e.code],
    retriable: e.retriable,
    message: e.message,
  };
  if (e.code === "OFFSET_OUT_OF_RANGE") body.earliestOffset = e.detail;
  else if (e.detail) body.detail = e.detail;
  return body;
}

/**
 * An error response: the code's HTTP status, unless the route has a more precise one.
 * THROTTLED carries the wait in ms as its detail, sent as `Retry-After` in whole seconds.
 */
export function errorResponse(e: KaitenError, status = ErrorInfo[e.code].http): WebResponse {
  const response = json({ error: errorBody(e) }, status);
  if (e.code === "THROTTLED")
    response.headers.set("retry-after", String(Math.max(1, Math.ceil(e.detail / 1000))));
  return response;
}

export function bad(message: string): KaitenError {
  return new KaitenError("INVALID_REQUEST", message);
}

/** Reads a JSON body (sent as application/json or as text/plain, as sendBeacon does). */
export async function readJson(request: WebRequest): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new KaitenError("FRAME_TOO_LARGE", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  // Counted in bytes: a body without content-length (streamed) can hold up to 3 bytes per
  // character, and text.length counts characters.
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES)
    throw new KaitenError("FRAME_TOO_LARGE", `bodies are at most ${MAX_BODY_BYTES} bytes`);
  const text = new TextDecoder().decode(new Uint8Array(bytes));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw bad("the body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw bad("the body must be a JSON object");
  return body as Record<string, unknown>;
}

export function optionalInt(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const v = body[field];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}`);
  }
  return v;
}
