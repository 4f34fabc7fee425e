import { resolve } from "node:path";
import { ConfigError, loadConfig } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { importOriginalDatabase } from "../legacy/import.ts";
import {
  listOriginalPersistentAgents,
  type OriginalPersistentAgent,
} from "../legacy/persistent-agents.ts";
import { UsageError } from "./args.ts";
import { CommandFailure, defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { formatTable } from "./table.ts";

/**
 * Unlike the other commands this is no client of the HTTP API: it is an offline migration tool,
 * like `daemon`, that opens agentd's database itself. The import must land in one transaction
 * before a daemon serves the database, and it has to read a file (the original's database) that
 * the daemon has no business opening.
 */
export const importLegacyCommand = defineCommand({
  name: "import-legacy",
  summary: "copy the original agentd daemon's agents, messages and workspaces into agentd",
  synopsis: "import-legacy --from OLD.db [--db AGENTD.db] [--dry-run]",
  description:
    "Reads the original daemon's database (never changing it) and adds its agents, with their\n" +
    "messages and workspaces, to agentd's database (--db, AGENTD_DB, or the default). Agents\n" +
    "become stopped, completed or failed as recorded; cost in cents becomes micro-USD. Agents\n" +
    "already imported are skipped, so running it again changes nothing. Also lists the original's\n" +
    "persistent agents (its env files in ~/.config/agentd-agents) with their config.",
  flags: {
    from: { kind: "string", value: "OLD.db", help: "the original daemon's database" },
    db: { kind: "string", value: "AGENTD.db", help: "agentd's database (AGENTD_DB)" },
    "dry-run": { kind: "boolean", help: "report what would be imported; write nothing" },
    json: { kind: "boolean", help: "print the report as JSON" },
  },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (flags.from === undefined) throw new UsageError("--from OLD.db is required");
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(flags.db === undefined ? {} : { db: flags.db });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    let report: ReturnType<typeof importOriginalDatabase>;
    try {
      report = importOriginalDatabase({
        from: resolve(flags.from),
        into: config.dbPath,
        dryRun: flags["dry-run"] === true,
      });
    } catch (error) {
      throw new CommandFailure(`import-legacy: ${errorMessage(error)}`);
    }
    const persistent = listOriginalPersistentAgents(config.legacyAgentsDir);
    if (flags.json) {
      printJson({ ...report, persistent_agents: persistent });
      return 0;
    }
    const verb = report.dry_run ? "would import" : "imported";
    process.stdout.write(
      `${verb} ${report.imported.length} agents (${report.messages} messages, ${report.workspaces} workspaces) from ${report.from} into ${report.into}\n`,
    );
    if (report.messages_left_out > 0) {
      process.stdout.write(
        `left out ${report.messages_left_out} messages whose role is neither user nor assistant\n`,
      );
    }
    for (const { id, reason } of report.skipped) process.stdout.write(`skipped ${id}: ${reason}\n`);
    process.stdout.write(persistentAgents(config.legacyAgentsDir, persistent));
    return 0;
  },
});

function persistentAgents(dir: string, agents: OriginalPersistentAgent[]): string {
  if (agents.length === 0) return `no persistent agents of the original in ${dir}\n`;
  const adoptable = agents.flatMap((entry) =>
    entry.agent ? [[entry.name, entry.agent.provider, entry.agent.model, entry.agent.cwd]] : [],
  );
  const problems = agents.flatMap((entry) =>
    entry.problem === null ? [] : [`${entry.name} cannot be adopted: ${entry.problem}\n`],
  );
  const table =
    adoptable.length > 0 ? formatTable(["NAME", "PROVIDER", "MODEL", "CWD"], adoptable) : "";
  return `\npersistent agents of the original in ${dir} (--json shows their full config):\n${table}${problems.join("")}`;
}
