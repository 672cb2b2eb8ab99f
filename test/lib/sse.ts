/** A Server-Sent Events reader for tests: fetch, then events one at a time (no EventSource in Node 20). */

export interface SseEvent {
  type: string;
  data: string;
  id: string | null;
}

export class SseReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  /** Comment lines seen (heartbeats). */
  comments = 0;

  private constructor(
    readonly response: Response,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly abort: AbortController,
  ) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    if (!response.body) throw new Error(`GET ${url}: ${response.status} without a body`);
    return new SseReader(response, response.body.getReader(), abort);
  }

  /** The next event, or null once the server ended the stream. */
  async next(timeoutMs = 20_000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = this.parse(block);
        if (event) return event;
        continue;
      }
      if (Date.now() > deadline) throw new Error(`no SSE event within ${timeoutMs} ms`);
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs));
      const chunk = await Promise.race([this.reader.read(), timer]);
      if (chunk === "timeout") throw new Error(`no SSE event within ${timeoutMs} ms`);
      if (chunk.done) return null;
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The next event of one of `types`, skipping others. */
  async nextOf(types: string[], timeoutMs = 20_000): Promise<SseEvent> {
    for (;;) {
      const e = await this.next(timeoutMs);
      if (!e) throw new Error(`the stream ended before an event of ${types.join(", ")}`);
      if (types.includes(e.type)) return e;
    }
  }

  private parse(block: string): SseEvent | null {
    let type = "message";
    let id: string | null = null;
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
      else continue;
      fields++;
    }
    return fields === 0 || data.length === 0 ? null : { type, data: data.join("\n"), id };
  }

  close(): void {
    this.abort.abort();
  }
}
