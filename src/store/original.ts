import { Database } from "bun:sqlite";

/**
 * The database of the original (Haskell) agentd daemon, read for `agentd import-legacy`. Its
 * schema was never versioned (PRAGMA user_version stays 0); what is known of it comes from the
 * daemon's own statements:
 *
 *   agents     (run_id, prompt, workspace, status, provider, model, cwd, thinking, extra_args,
 *               extra_env, title, summary, error, cost_cents, pid, started_at, completed_at,
 *               updated_at)
 *   messages   (run_id, role, content, created_at)
 *   workspaces (run_id, path, managed, repo_root, branch, status, size_bytes, created_at,
 *               accessed_at)
 *
 * Only agents.run_id and agents.status are required; every other column is read when present,
 * under the names above or the alternatives listed beside each field below.
 */

/** An original agent row; every field but the id and status may be missing. */
export interface OriginalAgent {
  run_id: string;
  status: string;
  prompt: string | null;
  workspace: string | null;
  provider: string | null;
  model: string | null;
  cwd: string | null;
  thinking: string | null;
  extra_args: string | null;
  extra_env: string | null;
  title: string | null;
  summary: string | null;
  error: string | null;
  cost_cents: number | null;
  created_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string | null;
}

export interface OriginalMessage {
  run_id: string;
  role: string;
  content: string;
  created_at: string | null;
}

export interface OriginalWorkspace {
  run_id: string;
  path: string;
  managed: number | null;
  repo: string | null;
  branch: string | null;
  base: string | null;
  status: string | null;
  size_bytes: number | null;
  created_at: string | null;
  accessed_at: string | null;
}

export interface OriginalDatabase {
  agents: OriginalAgent[];
  messages: OriginalMessage[];
  workspaces: OriginalWorkspace[];
}

/** Each field, and the columns it is read from, first match wins. */
const AGENT_COLUMNS: Record<keyof OriginalAgent, string[]> = {
  run_id: ["run_id"],
  status: ["status"],
  prompt: ["prompt"],
  workspace: ["workspace"],
  provider: ["provider"],
  model: ["model"],
  cwd: ["cwd"],
  thinking: ["thinking"],
  extra_args: ["extra_args"],
  extra_env: ["extra_env"],
  title: ["title"],
  summary: ["summary"],
  error: ["error"],
  cost_cents: ["cost_cents", "cost"],
  created_at: ["created_at"],
  started_at: ["started_at"],
  completed_at: ["completed_at"],
  updated_at: ["updated_at"],
};

const MESSAGE_COLUMNS: Record<keyof OriginalMessage, string[]> = {
  run_id: ["run_id", "agent_id"],
  role: ["role"],
  content: ["content", "message"],
  created_at: ["created_at", "timestamp"],
};

const WORKSPACE_COLUMNS: Record<keyof OriginalWorkspace, string[]> = {
  run_id: ["run_id", "agent_id"],
  path: ["path"],
  managed: ["managed"],
  repo: ["repo_root", "repo"],
  branch: ["branch"],
  base: ["base_ref", "base"],
  status: ["status"],
  size_bytes: ["size_bytes"],
  created_at: ["created_at"],
  accessed_at: ["accessed_at"],
};

/** The original keyed its agents by run_id; agentd's own schema never had that column. */
export function isOriginalDatabase(db: Database): boolean {
  return columnsOf(db, "agents").has("run_id");
}

/** Read everything the import takes from an original database, opened read-only. */
export function readOriginalDatabase(path: string): OriginalDatabase {
  const db = new Database(path, { readonly: true });
  try {
    if (!isOriginalDatabase(db)) {
      throw new Error(`${path} is not a database of the original agentd: it has no agents.run_id`);
    }
    return {
      agents: selectAll(db, "agents", AGENT_COLUMNS, ["run_id", "status"]),
      messages: selectAll(db, "messages", MESSAGE_COLUMNS, ["run_id", "role", "content"]),
      workspaces: selectAll(db, "workspaces", WORKSPACE_COLUMNS, ["run_id", "path"]),
    };
  } finally {
    db.close();
  }
}

function columnsOf(db: Database, table: string): Set<string> {
  const rows = db
    .query<{ name: string }, [string]>("SELECT name FROM pragma_table_info(?)")
    .all(table);
  return new Set(rows.map((row) => row.name));
}

/**
 * Every row of `table`, in the order written, with the fields of `columns`; a field none of whose
 * columns exists is null, unless it is required. A missing table has no rows.
 */
function selectAll<T>(
  db: Database,
  table: string,
  columns: Record<keyof T, string[]>,
  required: (keyof T & string)[],
): T[] {
  const present = columnsOf(db, table);
  if (present.size === 0) return [];
  const select = Object.entries(columns as Record<string, string[]>).map(([field, names]) => {
    const column = names.find((name) => present.has(name));
    if (column !== undefined) return `"${column}" AS ${field}`;
    if (required.includes(field as keyof T & string)) {
      throw new Error(`the original's ${table} table has no ${names.join(" or ")} column`);
    }
    return `NULL AS ${field}`;
  });
  return db.query<T, []>(`SELECT ${select.join(", ")} FROM "${table}" ORDER BY rowid`).all();
}
