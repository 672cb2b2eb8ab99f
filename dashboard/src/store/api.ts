/**
 * The broker's HTTP API (docs/PROTOCOL.md §11) for what the SDK does not cover: listing,
 * describing and creating topics. Errors are data: a code from §8, or NETWORK when the
 * broker could not be reached at all (which the connection banner cares about).
 */

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }

  /** The request never got an answer: the broker is down or unreachable. */
  get network(): boolean {
    return this.code === "NETWORK";
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/**
 * Calls `onReachable(true|false)` after each request, so the banner knows about HTTP too. With
 * a token, sends it as `Authorization: Bearer` and calls `onUnauthorized` on any 401.
 */
export function createApi(
  baseUrl: string,
  onReachable: (ok: boolean) => void,
  auth: { token: string | null; onUnauthorized(why: string): void } = {
    token: null,
    onUnauthorized: () => {},
  },
): Api {
  const base = baseUrl.replace(/\/?$/, "/");
  async function request<T>(path: string, init?: RequestInit): Promise<T> {
    let res: Response;
    const headers = new Headers(init?.headers);
    if (auth.token) headers.set("authorization", `Bearer ${auth.token}`);
    try {
      res = await fetch(new URL(path.replace(/^\//, ""), base), {
        ...init,
        headers,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      onReachable(false);
      throw new ApiError("NETWORK", `cannot reach the broker (${(error as Error).message})`);
    }
    onReachable(true);
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const e = body?.error;
      if (res.status === 401) auth.onUnauthorized(e?.message ?? "the token was refused");
      throw new ApiError(e?.code ?? "HTTP", e?.message ?? `HTTP ${res.status}`, res.status);
    }
    return body as T;
  }
  return {
    get: (path) => request(path),
    post: (path, body) =>
      request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    delete: (path) => request(path, { method: "DELETE" }),
  };
}

export const topicPath = (name: string) => `/v1/topics/${encodeURIComponent(name)}`;
