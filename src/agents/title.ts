import type { TitleEndpoint } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";

export const TITLE_MAX_CHARS = 60;

/** The first non-empty line of the prompt, at most 60 characters. */
export function heuristicTitle(prompt: string): string {
  const line =
    prompt
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "untitled";
  const chars = [...line];
  if (chars.length <= TITLE_MAX_CHARS) return line;
  return `${chars
    .slice(0, TITLE_MAX_CHARS - 1)
    .join("")
    .trimEnd()}…`;
}

/** Ask an OpenAI-compatible chat endpoint for a short title. Throws on any failure. */
export async function askForTitle(
  endpoint: TitleEndpoint,
  prompt: string,
  response: string | null,
  timeoutMs = 15_000,
): Promise<string> {
  const url = endpoint.url.endsWith("/chat/completions")
    ? endpoint.url
    : `${endpoint.url.replace(/\/+$/, "")}/chat/completions`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (endpoint.key) headers.authorization = `Bearer ${endpoint.key}`;
  const reply = await fetch(url, {
    method: "POST",
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    body: JSON.stringify({
      model: endpoint.model,
      max_tokens: 32,
      messages: [
        {
          role: "system",
          content: `Write a title of at most ${TITLE_MAX_CHARS} characters for this coding-agent task. Answer with the title only.`,
        },
        {
          role: "user",
          content: `Task:\n${prompt.slice(0, 4000)}\n\nAgent's answer:\n${(response ?? "").slice(0, 2000)}`,
        },
      ],
    }),
  });
  if (!reply.ok) throw new Error(`title endpoint answered HTTP ${reply.status}`);
  const body = (await reply.json()) as { choices?: { message?: { content?: unknown } }[] };
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== "string") throw new Error("title endpoint answered without a message");
  const title = content
    .trim()
    .replace(/^["'`]+|["'`]+$/g, "")
    .trim();
  if (!title) throw new Error("title endpoint answered with an empty title");
  return heuristicTitle(title);
}

/** Picks a title once per agent: from the endpoint when one is configured, else the heuristic. */
export class TitleMaker {
  /** Agents whose title is being asked for: turns completing meanwhile must not ask again. */
  private readonly asking = new Set<string>();

  constructor(
    private readonly endpoint: TitleEndpoint | null,
    private readonly save: (agentId: string, title: string) => void,
  ) {}

  assign(agentId: string, prompt: string, response: string | null): void {
    const fallback = heuristicTitle(prompt);
    if (!this.endpoint) {
      this.save(agentId, fallback);
      return;
    }
    if (this.asking.has(agentId)) return;
    this.asking.add(agentId);
    askForTitle(this.endpoint, prompt, response)
      .then((title) => this.save(agentId, title))
      .catch((error) => {
        log.warn(
          `title for ${agentId} from ${this.endpoint?.url} failed (${errorMessage(error)}); using the prompt's first line`,
        );
        this.save(agentId, fallback);
      })
      .finally(() => this.asking.delete(agentId));
  }
}
