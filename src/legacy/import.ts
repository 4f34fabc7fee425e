import type { Database } from "bun:sqlite";
import { existsSync, realpathSync } from "node:fs";
import { getAgent, type RestoredAgent, restoreAgent } from "../store/agents.ts";
import { openDatabase } from "../store/db.ts";
import { insertMessage } from "../store/messages.ts";
import { type OriginalDatabase, readOriginalDatabase } from "../store/original.ts";
import { nowIso } from "../store/time.ts";
import { Transactions } from "../store/transactions.ts";
import { insertWorkspace, type NewWorkspace } from "../store/workspaces.ts";
import {
  agentFromOriginal,
  type ImportedMessage,
  messageFromOriginal,
  unusableRunId,
  workspaceFromOriginal,
  workspaceOfOriginalAgent,
} from "./original-records.ts";
import { listOriginalPersistentAgents, type OriginalPersistentAgent } from "./persistent-agents.ts";

export interface ImportOptions {
  /** The original daemon's database (read only). */
  from: string;
  /** agentd's database. */
  into: string;
  /** Report what would be imported; write nothing, create nothing. */
  dryRun: boolean;
  /**
   * Where the original kept its persistent agents' env files (config.legacyAgentsDir). Those
   * agents are not history: `import-legacy --persistent` adopts them, under the same names.
   */
  persistentAgentsDir: string;
}

export interface ImportReport {
  from: string;
  into: string;
  dry_run: boolean;
  /** Agent ids imported (with dry_run: that would be). */
  imported: string[];
  skipped: { id: string; reason: string }[];
  messages: number;
  /** Messages agentd does not keep: roles other than user and assistant. */
  messages_left_out: number;
  workspaces: number;
}

/** One original agent and what comes with it. */
interface Carried {
  agent: RestoredAgent;
  messages: ImportedMessage[];
  workspace: NewWorkspace | null;
}

export class ImportError extends Error {}

/**
 * Copy the original daemon's agents, their messages and workspaces into agentd's database, in one
 * transaction. Agents already there (by id) are skipped, so importing again changes nothing.
 */
export function importOriginalDatabase(options: ImportOptions): ImportReport {
  if (!existsSync(options.from)) throw new ImportError(`${options.from} does not exist`);
  if (existsSync(options.into) && realpathSync(options.from) === realpathSync(options.into)) {
    throw new ImportError(
      `--from and --db are the same file, ${options.from}: agentd imports into a database of its own; give --db a new file`,
    );
  }
  const original = readOriginalDatabase(options.from);
  // A dry run against a database that does not exist yet must not create it.
  const db = options.dryRun && !existsSync(options.into) ? null : openDatabase(options.into);
  try {
    const report = emptyReport(options);
    const carried = selectAgents(original, db, options.persistentAgentsDir, report);
    for (const item of carried) {
      report.imported.push(item.agent.id);
      report.messages += item.messages.length;
      if (item.workspace) report.workspaces++;
    }
    if (db && !options.dryRun) write(db, carried);
    return report;
  } finally {
    db?.close();
  }
}

function emptyReport(options: ImportOptions): ImportReport {
  return {
    from: options.from,
    into: options.into,
    dry_run: options.dryRun,
    imported: [],
    skipped: [],
    messages: 0,
    messages_left_out: 0,
    workspaces: 0,
  };
}

/** The agents to import, with their messages and workspace; the rest are reported skipped. */
function selectAgents(
  original: OriginalDatabase,
  db: Database | null,
  persistentAgentsDir: string,
  report: ImportReport,
): Carried[] {
  const importedAt = nowIso();
  const carried = new Map<string, Carried>();
  const persistentAgents = new Map(
    listOriginalPersistentAgents(persistentAgentsDir).map((entry) => [entry.name, entry]),
  );
  for (const row of original.agents) {
    const persistent = persistentAgents.get(row.run_id);
    const reason =
      unusableRunId(row.run_id) ??
      (carried.has(row.run_id) ? "listed twice in the original database" : null) ??
      (db && getAgent(db, row.run_id) ? "already in agentd's database" : null) ??
      (persistent === undefined ? null : adoptedInstead(persistent, original));
    if (reason) {
      report.skipped.push({ id: row.run_id, reason });
      continue;
    }
    const agent = agentFromOriginal(row, importedAt);
    carried.set(row.run_id, {
      agent,
      messages: [],
      workspace: workspaceOfOriginalAgent(row, agent.created_at, existsSync),
    });
  }
  for (const row of original.messages) {
    const item = carried.get(row.run_id);
    if (!item) continue;
    const message = messageFromOriginal(row, item.agent.created_at);
    if (message) item.messages.push(message);
    else report.messages_left_out++;
  }
  const recorded = new Set<string>();
  for (const row of original.workspaces) {
    const item = carried.get(row.run_id);
    if (!item || recorded.has(row.run_id)) continue;
    recorded.add(row.run_id);
    item.workspace = workspaceFromOriginal(row, item.agent.created_at, existsSync(row.path));
  }
  return [...carried.values()];
}

/**
 * The original kept its persistent agents in the same table as its runs. Such an agent carries
 * on in agentd when it is adopted, under its name: it is not imported as history beside it.
 */
function adoptedInstead(persistent: OriginalPersistentAgent, original: OriginalDatabase): string {
  const messages = original.messages.filter((m) => m.run_id === persistent.name).length;
  const kept = messages === 0 ? "" : `; its ${messages} messages stay in the original's database`;
  const adoption =
    persistent.problem === null
      ? "`agentd import-legacy --persistent` adopts it"
      : `fix its env file (${persistent.problem}), then \`agentd import-legacy --persistent\` adopts it`;
  return `a persistent agent of the original (${persistent.env_file}): ${adoption}${kept}`;
}

function write(db: Database, carried: Carried[]): void {
  new Transactions(db).run(() => {
    for (const { agent, messages, workspace } of carried) {
      restoreAgent(db, agent);
      for (const message of messages) insertMessage(db, agent.id, message);
      if (workspace) insertWorkspace(db, workspace);
    }
  });
}
