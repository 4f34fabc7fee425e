import { cliToken, resolveDaemonUrl } from "../config.ts";
import { errorMessage } from "../errors.ts";
import type { FlagSpecs, FlagValues } from "./args.ts";
import { CommandFailure } from "./command.ts";

/** The flag every command that talks to the daemon accepts. */
export const URL_FLAG = {
  url: { kind: "string", value: "URL", help: "daemon URL (AGENTD_URL; http://127.0.0.1:8400)" },
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
 * carrying the server's own message.
 */
export class DaemonClient {
  constructor(
    readonly url: string,
    private readonly token: string | null,
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers = new Headers();
    if (this.token !== null) headers.set("authorization", `Bearer ${this.token}`);
    if (options.body !== undefined) headers.set("content-type", "application/json");
    let response: Response;
    try {
      response = await fetch(this.address(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        timeout: !options.mayIdle,
        signal: options.signal,
      });
    } catch (error) {
      throw new CommandFailure(
        `cannot reach the agentd daemon at ${this.url} (${connectionProblem(error)}); is it running? Set --url or AGENTD_URL to point elsewhere`,
      );
    }
    if (!response.ok) throw new CommandFailure(await failureMessage(response));
    return response;
  }

  async json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return (await this.request(method, path, options)).json() as Promise<T>;
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

export function clientFrom(flags: FlagValues<typeof URL_FLAG>): DaemonClient {
  return new DaemonClient(resolveDaemonUrl(flags.url), cliToken());
}

/** Bun's connection errors carry a terse code (ECONNREFUSED) beside a chatty message. */
function connectionProblem(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : null;
  return typeof code === "string" ? code : errorMessage(error);
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
