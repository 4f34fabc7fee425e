import { formatUsd } from "../agents/budget.ts";
import type { StoredEvent } from "../api/events.ts";
import type { AgentView } from "../api/schemas.ts";

/** How the dashboard writes numbers, times and events: short, and the same everywhere. */

/** `$0.0020`, as the CLI writes it; an unknown cost is a dash, never $0. */
export function formatCost(microUsd: number | null): string {
  return microUsd === null ? "–" : formatUsd(microUsd);
}

/** `950`, `12.3k`, `4.1M`. */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  // 999 500 would round to "1000k".
  if (n < 999_500) return `${trimmed(n / 1000)}k`;
  return `${trimmed(n / 1_000_000)}M`;
}

function trimmed(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, "");
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${trimmed(value)} ${units[unit]}`;
}

/** `45s`, `12m`, `3h`, `2d`: how long, in its largest whole unit. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A turn's run time to a tenth of a second under a minute, where that matters. */
export function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : formatDuration(ms);
}

export function since(iso: string, now: number): number {
  return now - Date.parse(iso);
}

/** A time of day when it was today, else the date too; in the browser's time zone. */
export function formatTime(iso: string, now: number): string {
  const time = new Date(iso);
  const sameDay = new Date(now).toDateString() === time.toDateString();
  return sameDay
    ? time.toLocaleTimeString(undefined, { hour12: false })
    : time.toLocaleString(undefined, { hour12: false });
}

/** Every turn the agent has had, whatever its status. */
export function turnTotal(agent: AgentView): number {
  return Object.values(agent.turn_counts).reduce((sum, n) => sum + n, 0);
}

/** What an agent is about: its title, else what it last said, else its first prompt. */
export function agentDescription(agent: AgentView): string {
  return agent.title ?? agent.summary ?? agent.prompt ?? "";
}

/** The words the overview's search looks in. */
export function searchText(agent: AgentView): string {
  return [
    agent.id,
    agent.name,
    agent.title,
    agent.summary,
    agent.prompt,
    agent.model,
    agent.protocol,
    agent.cwd,
    agent.workspace?.branch,
  ]
    .filter((part) => part)
    .join("\n")
    .toLowerCase();
}

/** One line about an event, for the live event list. */
export function describeEvent(event: StoredEvent): string {
  switch (event.type) {
    case "status":
      return event.data.previous === null
        ? `created ${event.data.status}`
        : `${event.data.previous} → ${event.data.status}${event.data.error ? `: ${event.data.error}` : ""}`;
    case "turn.queued":
    case "turn.started":
      return event.data.turn_id ?? "";
    case "turn.completed":
      return `${event.data.turn_id ?? ""}: ${oneLine(event.data.response ?? "")}`;
    case "turn.failed":
      return `${event.data.turn_id ?? ""}: ${event.data.error}`;
    case "turn.cancelled":
      return `${event.data.turn_id ?? ""}: ${event.data.reason}`;
    case "usage":
      return `${event.data.input_tokens} in, ${event.data.output_tokens} out, ${formatCost(event.data.cost_micro_usd)}${event.data.model ? ` (${event.data.model})` : ""}`;
    case "inference":
      return `${event.data.phase}${event.data.model ? ` ${event.data.model}` : ""}${event.data.duration_ms === undefined ? "" : ` ${formatElapsed(event.data.duration_ms)}`}`;
    case "tool":
      return `${event.data.phase} ${event.data.name}`;
    case "log":
      return `${event.data.level}: ${oneLine(event.data.message)}`;
    case "permission":
      return `${event.data.tool} ${event.data.decision} (${event.data.reason})`;
    case "session":
      return event.data.session_id;
    case "exit":
      return `code ${event.data.code ?? "–"}${event.data.signal ? `, ${event.data.signal}` : ""}${event.data.stopped ? ", stopped" : ""}`;
    case "restart":
      return `restart #${event.data.restarts}`;
    case "budget":
      return `${event.data.previous} → ${event.data.state}: ${formatCost(event.data.spent_micro_usd)} of ${formatCost(event.data.budget_micro_usd)}`;
    case "removed":
      return "removed";
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** The start of this day in the browser's time zone, as the usage API takes it. */
export function startOfToday(now: number): string {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.toISOString();
}
