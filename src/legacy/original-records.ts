import type { AgentStatus } from "../agents/status.ts";
import { NAME_PATTERN } from "../api/names.ts";
import type { RestoredAgent } from "../store/agents.ts";
import type { MessageRole } from "../store/messages.ts";
import type { OriginalAgent, OriginalMessage, OriginalWorkspace } from "../store/original.ts";
import type { NewWorkspace } from "../store/workspaces.ts";

/**
 * The original daemon's records as agentd records. An original agent is history: its process
 * belonged to the original daemon, so it becomes `completed` or `failed` as recorded, and
 * `stopped` whatever else it was.
 */

export function statusFromOriginal(status: string): AgentStatus {
  const recorded = status.trim().toLowerCase();
  if (recorded === "completed") return "completed";
  if (recorded === "failed" || recorded === "error") return "failed";
  return "stopped";
}

/** An original run id that cannot be an agentd id (it names log and workspace directories). */
export function unusableRunId(runId: string): string | null {
  return NAME_PATTERN.test(runId)
    ? null
    : `run_id "${runId}" cannot be an agentd id (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)`;
}

/**
 * The original's timestamps as agentd's ISO-8601 UTC. It wrote Haskell's UTCTime, as
 * `2026-04-11 18:22:31.123456 UTC` or with a `T` and a `Z`; a time with no zone is UTC.
 * Null when the text is no such time.
 */
export function timestampFromOriginal(text: string | null): string | null {
  if (text === null) return null;
  const match =
    /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/.exec(
      text.trim(),
    );
  if (!match) return null;
  const [, date, time, fraction = "", zone = "Z"] = match;
  const offset = zone === "UTC" ? "Z" : zone.replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const parsed = new Date(`${date}T${time}${fraction.slice(0, 4)}${offset}`);
  return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString();
}

export function agentFromOriginal(row: OriginalAgent, importedAt: string): RestoredAgent {
  const started = timestampFromOriginal(row.started_at);
  const updated = timestampFromOriginal(row.updated_at);
  const created = timestampFromOriginal(row.created_at) ?? started ?? updated ?? importedAt;
  return {
    id: row.run_id,
    name: row.run_id,
    mode: "run",
    protocol: "omni",
    status: statusFromOriginal(row.status),
    command: null,
    provider: row.provider || "auto",
    model: row.model || "auto",
    cwd: row.cwd || row.workspace || "",
    thinking: row.thinking || null,
    extra_args: wordsOf(row.extra_args),
    env: envOf(row.extra_env),
    webhook: null,
    // The original sent every prompt as raw bytes and a NUL.
    turn_envelope: false,
    permissions: "ask-denied",
    prompt: row.prompt || null,
    restart: "no",
    turn_timeout_s: null,
    turn_idle_timeout_s: null,
    title: row.title || null,
    summary: row.summary || null,
    error: row.error || null,
    cost_micro_usd: row.cost_cents === null ? null : Math.round(row.cost_cents * 10_000),
    created_at: created,
    started_at: started,
    completed_at: timestampFromOriginal(row.completed_at),
    updated_at: updated ?? created,
  };
}

/**
 * The original passed its extra args through the shell unquoted (`${AGENTD_EXTRA_ARGS:-}`), so
 * they were words split on whitespace.
 */
export function wordsOf(text: string | null): string[] {
  return (text ?? "").split(/\s+/).filter((word) => word !== "");
}

/** The original's extra env, a JSON object of strings; anything else is no env. */
function envOf(text: string | null): Record<string, string> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string",
      ),
    );
  } catch {
    return {};
  }
}

export interface ImportedMessage {
  role: MessageRole;
  content: string;
  turn_id: null;
  created_at: string;
}

/** A conversation message; null for what agentd does not keep (roles other than user/assistant). */
export function messageFromOriginal(
  row: OriginalMessage,
  fallbackTime: string,
): ImportedMessage | null {
  if ((row.role !== "user" && row.role !== "assistant") || row.content === null) return null;
  return {
    role: row.role,
    content: row.content,
    turn_id: null,
    created_at: timestampFromOriginal(row.created_at) ?? fallbackTime,
  };
}

/**
 * The directory an original agent row names as its workspace, when the original kept no
 * workspace record of it: nothing says the original made it, so agentd never removes it.
 */
export function workspaceOfOriginalAgent(
  row: OriginalAgent,
  agentCreatedAt: string,
  onDisk: (path: string) => boolean,
): NewWorkspace | null {
  const path = row.workspace || row.cwd;
  if (!path) return null;
  return {
    agent_id: row.run_id,
    kind: "external",
    path,
    repo: null,
    branch: null,
    base: null,
    status: onDisk(path) ? "active" : "missing",
    created_at: agentCreatedAt,
    accessed_at: agentCreatedAt,
  };
}

/**
 * The original's workspace record. Only a workspace it said it managed is agentd's to remove: a
 * worktree when it knows the repository and branch, else a directory. An unknown one is external.
 */
export function workspaceFromOriginal(
  row: OriginalWorkspace,
  agentCreatedAt: string,
  onDisk: boolean,
): NewWorkspace {
  const managed = row.managed !== null && row.managed !== 0;
  const worktree = managed && row.repo !== null && row.branch !== null;
  const created = timestampFromOriginal(row.created_at) ?? agentCreatedAt;
  return {
    agent_id: row.run_id,
    kind: worktree ? "worktree" : managed ? "dir" : "external",
    path: row.path,
    repo: worktree ? row.repo : null,
    branch: worktree ? row.branch : null,
    base: worktree ? row.base : null,
    status: onDisk ? "active" : "missing",
    size_bytes: row.size_bytes,
    created_at: created,
    accessed_at: timestampFromOriginal(row.accessed_at) ?? created,
  };
}
