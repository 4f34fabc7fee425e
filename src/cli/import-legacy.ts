import { resolve } from "node:path";
import type { AgentView, CreateAgentInput } from "../api/schemas.ts";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { type AdoptionReport, adoptPersistentAgents } from "../legacy/adopt.ts";
import { importOriginalDatabase } from "../legacy/import.ts";
import {
  listOriginalPersistentAgents,
  type OriginalPersistentAgent,
} from "../legacy/persistent-agents.ts";
import { agentUnitPath } from "../runtimes/persistent/paths.ts";
import { Systemctl } from "../systemd/systemctl.ts";
import { UsageError } from "./args.ts";
import { clientFrom, URL_FLAG } from "./client.ts";
import { CommandFailure, defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { formatTable } from "./table.ts";

/**
 * Two jobs. `--from`: an offline migration tool, like `daemon`, that opens agentd's database
 * itself — the import must land in one transaction, and it reads a file (the original's database)
 * the daemon has no business opening. `--persistent`: a client of the running daemon's API, which
 * creates the adopted agents with its persistent runtime; the CLI itself only stops the
 * original's units and moves its files aside.
 */
export const importLegacyCommand = defineCommand({
  name: "import-legacy",
  summary: "carry the original agentd daemon's agents over: its database, its persistent agents",
  synopsis:
    "import-legacy --from OLD.db [--db AGENTD.db] [--dry-run]\n       agentd import-legacy --persistent [--url URL] [--dry-run]",
  description:
    "--from reads the original daemon's database (never changing it) and adds its agents, with\n" +
    "their messages and workspaces, to agentd's database (--db, AGENTD_DB, or the default). Agents\n" +
    "become stopped, completed or failed as recorded; cost in cents becomes micro-USD. Agents\n" +
    "already imported are skipped, so running it again changes nothing. The original's persistent\n" +
    "agents (its env files in ~/.config/agentd-agents) are listed with their config, not imported.\n\n" +
    "--persistent adopts those through the running daemon (--url): their units are stopped, the\n" +
    "original's exec script and unit template moved aside, each agent created as an agentd\n" +
    "persistent agent of the same name and config with the original's raw prompt framing (and\n" +
    "started if it was running), and its env file moved aside. Nothing is deleted: moved files go\n" +
    "to ~/.config/agentd-agents/moved-aside/, with a note in MOVED.txt.",
  flags: {
    from: { kind: "string", value: "OLD.db", help: "the original daemon's database" },
    db: { kind: "string", value: "AGENTD.db", help: "agentd's database (AGENTD_DB)" },
    persistent: {
      kind: "boolean",
      help: "adopt the original's persistent agents into the running daemon",
    },
    "dry-run": { kind: "boolean", help: "report what would be done; change nothing" },
    ...URL_FLAG,
    json: { kind: "boolean", help: "print the report as JSON" },
  },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const dryRun = flags["dry-run"] === true;
    if (flags.persistent) {
      if (flags.from !== undefined || flags.db !== undefined) {
        throw new UsageError(
          "--persistent adopts agents through the running daemon (--url); import the database with --from in a separate run",
        );
      }
      const report = await adopt(configFrom({}), flags, dryRun);
      if (flags.json) printJson(report);
      else process.stdout.write(adoptionSummary(report));
      // Scripts notice an agent left behind; the report says which and why.
      return report.not_adopted.length > 0 && !dryRun ? 1 : 0;
    }
    if (flags.from === undefined) {
      throw new UsageError("give --from OLD.db (import a database) or --persistent (adopt agents)");
    }
    if (flags.url !== undefined) throw new UsageError("--url goes with --persistent");
    const config = configFrom(flags.db === undefined ? {} : { db: flags.db });
    let report: ReturnType<typeof importOriginalDatabase>;
    try {
      report = importOriginalDatabase({
        from: resolve(flags.from),
        into: config.dbPath,
        dryRun,
        persistentAgentsDir: config.legacyAgentsDir,
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

function configFrom(flags: { db?: string }): Config {
  try {
    return loadConfig(flags);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

async function adopt(
  config: Config,
  flags: { url?: string | undefined },
  dryRun: boolean,
): Promise<AdoptionReport> {
  const client = clientFrom(flags);
  const systemctl = new Systemctl(config.systemctlEnv);
  try {
    return await adoptPersistentAgents({
      files: { dir: config.legacyAgentsDir, unitPath: agentUnitPath(config) },
      dryRun,
      agentd: {
        agentIds: async () =>
          new Set((await client.all<AgentView>("/agents")).map((agent) => agent.id)),
        create: (body: CreateAgentInput) => client.json<AgentView>("POST", "/agents", { body }),
      },
      units: {
        isRunning: async (unit) => {
          const state = (await systemctl.show([unit])).get(unit)?.activeState;
          return state === "active" || state === "activating" || state === "reloading";
        },
        stop: (unit) => systemctl.stop(unit),
      },
    });
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    throw new CommandFailure(`import-legacy --persistent: ${errorMessage(error)}`);
  }
}

function adoptionSummary(report: AdoptionReport): string {
  const lines: string[] = [];
  const verb = report.dry_run ? "would adopt" : "adopted";
  for (const agent of report.adopted) {
    const state = agent.started ? "running" : "not started (it was not running)";
    lines.push(`${verb} ${agent.name}: ${state}`);
    for (const moved of agent.moved) lines.push(`  moved ${moved.from} to ${moved.to}`);
  }
  for (const moved of report.runtime_moved) lines.push(`moved ${moved.from} to ${moved.to}`);
  for (const agent of report.not_adopted) {
    lines.push(`not adopted ${agent.name} (${agent.env_file}): ${agent.reason}`);
  }
  if (lines.length === 0) lines.push("no persistent agents of the original to adopt");
  return `${lines.join("\n")}\n`;
}

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
  return `\npersistent agents of the original in ${dir} (--json shows their full config; --persistent adopts them):\n${table}${problems.join("")}`;
}
