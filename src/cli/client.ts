import { nextPage } from "../api/paging.ts";
import { ConfigError, cliToken, resolveDaemonUrl } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { type FlagSpecs, type FlagValues, UsageError } from "./args.ts";
import { CommandFailure } from "./command.ts";

/** The flags every command that talks to the daemon accepts: where it is, and its token. */
export const URL_FLAG = {
  url: { kind: "string", value: "URL", help: "daemon URL (AGENTD_URL; http://127.0.0.1:8400)" },
  token: { kind: "string", value: "TOKEN", help: "the daemon's bearer token (AGENTD_TOKEN)" },
  "token-file": {
    kind: "string",
    value: "FILE",
    help: "read the token from an owner-only file (AGENTD_TOKEN_FILE)",
  },
} as const satisfies FlagSpecs;

/** For commands whose answer is JSON: print it as is, for scripts. */
export const JSON_FLAG = {
  json: { kind: "boolean", help: "print the server's JSON instead of text for people" },
} as const satisfies FlagSpecs;

type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /**
   * The answer may rightly stay silent for long (a wait for a turn, a followed log): no idle
   * deadline, where fetch would otherwise give up after five quiet minutes.
   */
  mayIdle?: boolean;
  /** Gives up on the request when aborted (a deadline of the caller's). */
  signal?: AbortSignal;
}

/**
 * The CLI's only way to the daemon. `request` hands back the raw Response so streaming
 * endpoints (logs, events) can be read as they arrive; failures become CommandFailures
 * carrying the server's own message, or agentd's words for what went wrong on the way.
 */
export class DaemonClient {
  constructor(
    readonly url: string,
    private readonly token: string | null,
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send(method, this.address(path, options.query), options);
  }

  async json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return this.parsed<T>(await this.request(method, path, options), `${method} ${path}`);
  }

  /**
   * Every item of a list the daemon answers a page at a time (`GET /agents`): the first page
   * at `path`, then each page the one before names in its Link header, on the same daemon.
   */
  async all<T>(path: string, options: RequestOptions = {}): Promise<T[]> {
    const items: T[] = [];
    let url = this.address(path, options.query);
    for (;;) {
      const response = await this.send("GET", url, options);
      const page = await this.parsed<unknown>(response, `GET ${path}`);
      if (!Array.isArray(page)) {
        throw new CommandFailure(
          `the daemon at ${this.url} answered GET ${path} with something that is not a list; is it an agentd daemon?`,
        );
      }
      items.push(...(page as T[]));
      const next = nextPage(response.headers.get("link"));
      if (next === null) return items;
      url = this.nextPageUrl(next, url);
    }
  }

  private async send(method: string, url: string, options: RequestOptions): Promise<Response> {
    const headers = new Headers();
    if (this.token !== null) headers.set("authorization", `Bearer ${this.token}`);
    if (options.body !== undefined) headers.set("content-type", "application/json");
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        timeout: !options.mayIdle,
        signal: options.signal,
      });
    } catch (error) {
      throw new CommandFailure(
        `cannot talk to the agentd daemon at ${this.url}: ${describeHttpFailure(error)}; is it running, and is that its address? Set --url or AGENTD_URL to point elsewhere`,
      );
    }
    if (!response.ok) throw new DaemonRefusal(response.status, await failureMessage(response));
    return response;
  }

  private async parsed<T>(response: Response, what: string): Promise<T> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new CommandFailure(
        `the answer of the agentd daemon at ${this.url} broke off: ${describeHttpFailure(error)}`,
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CommandFailure(
        `the daemon at ${this.url} answered ${what} with something that is not JSON; is it an agentd daemon?`,
      );
    }
  }

  /**
   * The next page's URL, resolved against the page's own. Only ever on this daemon (the token
   * goes with it), and never the same page again.
   */
  private nextPageUrl(target: string, current: string): string {
    const next = new URL(target, current);
    if (next.origin !== new URL(this.url).origin || next.href === new URL(current).href) {
      throw new CommandFailure(
        `the daemon at ${this.url} named ${next.href} as the next page after ${current}; not following it: is it an agentd daemon?`,
      );
    }
    return next.href;
  }

  /** Like `json`, but null when the daemon answers 404. */
  async jsonOrNull<T>(method: string, path: string, options?: RequestOptions): Promise<T | null> {
    try {
      return await this.json<T>(method, path, options);
    } catch (error) {
      if (error instanceof DaemonRefusal && error.status === 404) return null;
      throw error;
    }
  }

  private address(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.size > 0 ? `?${params}` : "";
    return `${this.url}${path}${search}`;
  }
}

/** The daemon answered, with an error status; the message is the server's own. */
export class DaemonRefusal extends CommandFailure {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function clientFrom(flags: FlagValues<typeof URL_FLAG>): DaemonClient {
  try {
    const url = resolveDaemonUrl(flags.url);
    return new DaemonClient(url, cliToken({ token: flags.token, tokenFile: flags["token-file"] }));
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** What went wrong on the way to the daemon or back, by the error's code, in agentd's words. */
const HTTP_FAILURES: Record<string, string> = {
  ECONNREFUSED: "nothing accepts connections there (connection refused)",
  ECONNRESET: "the connection was closed before the answer was complete",
  ConnectionClosed: "the connection was closed before the answer was complete",
  ENOTFOUND: "there is no such host",
  EAI_AGAIN: "the host name could not be looked up",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host cannot be reached",
  ENETUNREACH: "the network cannot be reached",
  ERR_INVALID_URL: "that is not a valid URL",
  TimeoutError: "no answer came in time",
  AbortError: "the request was given up",
};

/**
 * Bun's fetch errors, without Bun's own advice ("pass `verbose: true` …"): a sentence for the
 * codes agentd knows, the code for others.
 */
export function describeHttpFailure(error: unknown): string {
  const fields = typeof error === "object" && error !== null ? error : {};
  const code = "code" in fields && typeof fields.code === "string" ? fields.code : null;
  const name = "name" in fields && typeof fields.name === "string" ? fields.name : null;
  const known = HTTP_FAILURES[code ?? ""] ?? HTTP_FAILURES[name ?? ""];
  if (known !== undefined) return known;
  if (code !== null) return `the connection failed (${code})`;
  return errorMessage(error)
    .replace(/\s*For more information, pass `verbose: true`.*$/s, "")
    .replace(/^fetch\(\) /, "");
}

/** The server's `{error: {message}}` when it sent one, else the bare HTTP status. */
async function failureMessage(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body: unknown = JSON.parse(text);
    const message = serverMessage(body);
    if (message !== undefined) return message;
  } catch {}
  const detail = text.trim() === "" ? "" : `: ${text.trim().slice(0, 200)}`;
  return `HTTP ${response.status} ${response.statusText}${detail}`;
}

function serverMessage(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const { error } = body;
  if (typeof error !== "object" || error === null || !("message" in error)) return undefined;
  return typeof error.message === "string" ? error.message : undefined;
}
