/** The HTTP API (docs/PROTOCOL.md §11) from a test: JSON requests and paged partition reads. */

export interface HttpResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A record as GET .../records returns it (§11). */
export interface JsonRecord {
  offset: number;
  key: string | null;
  keyBase64?: string;
  value?: unknown;
  valueBase64?: string;
  headers: Record<string, string>;
  timestamp: number;
}

export interface ReadPage {
  records: JsonRecord[];
  nextOffset: number;
  highWatermark: number;
  earliestOffset: number;
  epoch: number;
}

export interface ErrorBody {
  error: { code: string; numericCode: number; retriable: boolean; message: string };
}

/** Sends a request and parses the JSON body (null for an empty one). */
export async function call<T = unknown>(
  url: string,
  init: RequestInit = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === "" ? null : JSON.parse(text)) as T,
  };
}

export function postJson<T = unknown>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  return call<T>(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Every record of a partition from `from` up to its high watermark, page by page. */
export async function readPartition(
  baseUrl: string,
  topic: string,
  partition: number,
  from = 0,
  headers: Record<string, string> = {},
): Promise<{ records: JsonRecord[]; last: ReadPage }> {
  const records: JsonRecord[] = [];
  let offset = from;
  for (;;) {
    const url = `${baseUrl}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=1000`;
    const page = await call<ReadPage>(url, { headers });
    if (page.status !== 200)
      throw new Error(`GET ${url}: ${page.status} ${JSON.stringify(page.body)}`);
    records.push(...page.body.records);
    if (page.body.nextOffset >= page.body.highWatermark) return { records, last: page.body };
    if (page.body.records.length === 0) throw new Error(`GET ${url} made no progress`);
    offset = page.body.nextOffset;
  }
}
