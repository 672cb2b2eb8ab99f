/**
 * The WHATWG fetch types the HTTP API uses, declared here because the core compiles without
 * DOM, Workers or Node types (STYLE.md). Only the members the API calls are listed, so the
 * runtime's own `Request` (workerd's, or Node's undici one) is assignable to `WebRequest`.
 *
 * The constructors are the runtime's, read from `globalThis` once: every host Kaiten runs on
 * (workerd, Node >= 20) provides them with the same behaviour. A `WebResponse` made here is
 * therefore the host's own Response object, which a host hands back as its own type.
 */

export interface WebHeaders {
  get(name: string): string | null;
  set(name: string, value: string): void;
}

export type WebHeadersInit = Record<string, string> | WebHeaders;

export type WebReadResult = { done: false; value: Uint8Array } | { done: true; value?: undefined };

export interface WebStreamReader {
  read(): Promise<WebReadResult>;
  cancel(reason?: unknown): Promise<void>;
}

export interface WebReadableStream {
  getReader(): WebStreamReader;
}

export interface WebStreamWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export type WebBody = string | Uint8Array | WebReadableStream | null;

export interface WebRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: WebHeaders;
  readonly body: WebReadableStream | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface WebResponseInit {
  status?: number;
  statusText?: string;
  headers?: WebHeadersInit;
}

export interface WebResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: WebHeaders;
  readonly body: WebReadableStream | null;
}

export interface WebSearchParams {
  get(name: string): string | null;
  getAll(name: string): string[];
  set(name: string, value: string): void;
  delete(name: string): void;
}

export interface WebURL {
  readonly href: string;
  readonly pathname: string;
  readonly searchParams: WebSearchParams;
}

interface WebGlobals {
  Response: new (body?: WebBody, init?: WebResponseInit) => WebResponse;
  URL: new (url: string | WebURL, base?: string) => WebURL;
  TransformStream: new () => {
    readable: WebReadableStream;
    writable: { getWriter(): WebStreamWriter };
  };
}

const web = globalThis as unknown as WebGlobals;

export const Response = web.Response;
export const URL = web.URL;

/** A pipe whose readable side is a response body and whose writer the API feeds (SSE). */
export function pipe(): { readable: WebReadableStream; writer: WebStreamWriter } {
  const { readable, writable } = new web.TransformStream();
  return { readable, writer: writable.getWriter() };
}
