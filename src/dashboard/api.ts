import { nextPage } from "../api/paging.ts";
import type { ErrorBody } from "../api/schemas.ts";

/**
 * The dashboard's one way to the daemon: the public HTTP API, with the operator's token when
 * there is one. A refusal becomes an ApiError carrying the daemon's own code, message and
 * details, so that what the operator reads is what the daemon said.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** What an answer that is not 2xx means, in the daemon's words when it gave any. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error && typeof body.error.message === "string") {
      return new ApiError(response.status, body.error.code, body.error.message, body.error.details);
    }
  } catch {
    // Not the daemon's JSON (a proxy's page, say): its text is still the best explanation.
  }
  const said = text.trim().slice(0, 300);
  const message = said === "" ? `${response.status} ${response.statusText}` : said;
  return new ApiError(response.status, `http_${response.status}`, message);
}

/** Any failure as an ApiError: a network failure has no status (0). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, "unreachable", `cannot reach the daemon: ${message}`);
}

export interface ApiOptions {
  /** Where the daemon is; the page's own origin when left out (the page is served by it). */
  base?: string;
  /** The token to send, if the operator gave one. */
  token(): string | null;
  /** Told of every 401, so that the page can ask for a (new) token. */
  onUnauthorized(error: ApiError): void;
}

export class Api {
  constructor(private readonly options: ApiOptions) {}

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.json<T>("GET", path, undefined, signal);
  }

  /**
   * Every item of a list the daemon answers a page at a time (`GET /agents`): the first page
   * at `path`, then each page the one before names in its Link header, on the same daemon.
   */
  async all<T>(path: string, signal?: AbortSignal): Promise<T[]> {
    const items: T[] = [];
    let next: string | null = path;
    while (next !== null) {
      const response = await this.send("GET", next, undefined, {}, signal);
      items.push(...((await response.json()) as T[]));
      next = this.nextPagePath(response, next);
    }
    return items;
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>("POST", path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>("DELETE", path);
  }

  /** A response whose body the caller reads as it arrives (event streams, followed logs). */
  async open(path: string, headers: Record<string, string>, signal: AbortSignal) {
    return this.send("GET", path, undefined, headers, signal);
  }

  /** The path of the page the answer's Link header names next, on this daemon; null at the end. */
  private nextPagePath(response: Response, current: string): string | null {
    const target = nextPage(response.headers.get("link"));
    if (target === null) return null;
    const next = new URL(target, response.url);
    const path = `${next.pathname}${next.search}`;
    if (next.origin !== new URL(response.url).origin || path === current) {
      throw new ApiError(
        0,
        "bad_next_page",
        `the daemon named ${next.href} as the page after ${current}; not following it`,
      );
    }
    return path;
  }

  private async json<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const response = await this.send(method, path, body, {}, signal);
    return (await response.json()) as T;
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    extraHeaders: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const headers = new Headers(extraHeaders);
    const token = this.options.token();
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    if (body !== undefined) headers.set("content-type", "application/json");
    let response: Response;
    try {
      response = await fetch(`${this.options.base ?? ""}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
        cache: "no-store",
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw asApiError(error);
    }
    if (response.ok) return response;
    const error = await errorOf(response);
    if (error.unauthorized) this.options.onUnauthorized(error);
    throw error;
  }
}
