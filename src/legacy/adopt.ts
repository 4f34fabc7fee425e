import { existsSync, statSync } from "node:fs";
import type { AgentView, CreateAgentInput } from "../api/schemas.ts";
import { errorMessage } from "../errors.ts";
import { unitName } from "../runtimes/persistent/paths.ts";
import {
  type AdoptableAgent,
  listOriginalPersistentAgents,
  type MovedFile,
  moveAgentFilesAside,
  moveRuntimeAside,
  type OriginalAgentFiles,
} from "./persistent-agents.ts";

/** The running agentd that adopts the agents: its HTTP API, nothing else. */
export interface AgentdApi {
  agentIds(): Promise<Set<string>>;
  create(body: CreateAgentInput): Promise<AgentView>;
}

/** The user manager the original's units run under (instances of the template name agentd uses). */
export interface OriginalUnits {
  /** Whether the unit is running (or starting). */
  isRunning(unit: string): Promise<boolean>;
  stop(unit: string): Promise<void>;
}

export interface AdoptionOptions {
  files: OriginalAgentFiles;
  agentd: AgentdApi;
  units: OriginalUnits;
  /** Check and report; stop, move and create nothing. */
  dryRun: boolean;
}

export interface Adopted {
  name: string;
  /** It ran under the original, so agentd started it; otherwise it waits to be started. */
  started: boolean;
  /** Its status in agentd once created (null in a dry run). */
  status: string | null;
  moved: MovedFile[];
}

export interface NotAdopted {
  name: string;
  env_file: string;
  reason: string;
}

export interface AdoptionReport {
  dry_run: boolean;
  /** With dry_run: those that would be. */
  adopted: Adopted[];
  not_adopted: NotAdopted[];
  /** The original's exec script and unit template, once nothing of the original needs them. */
  runtime_moved: MovedFile[];
}

const WHY_AGENT =
  "adopted by agentd (import-legacy --persistent), which now runs it from its own files";
const WHY_RUNTIME =
  "agentd adopted the original's persistent agents; its unit template stands where agentd's goes";

/**
 * Adopt the original daemon's persistent agents into a running agentd, through its API: each
 * becomes an agentd persistent agent of the same name and config, with the original's raw
 * prompt framing, running again if it ran before. The original's units are stopped first, its
 * shared files then moved aside (its unit template is where agentd's goes), and each adopted
 * agent's env file is moved aside once agentd has it. Nothing is deleted; an agent that cannot
 * be adopted is reported with the reason, and its env file stays where it is.
 */
export async function adoptPersistentAgents(options: AdoptionOptions): Promise<AdoptionReport> {
  const { files, agentd, units, dryRun } = options;
  const report: AdoptionReport = {
    dry_run: dryRun,
    adopted: [],
    not_adopted: [],
    runtime_moved: [],
  };
  const existing = await agentd.agentIds();
  const candidates: { agent: AdoptableAgent; envFile: string }[] = [];
  for (const entry of listOriginalPersistentAgents(files.dir)) {
    const reason = entry.agent === null ? entry.problem : whyNot(entry.agent, existing);
    if (reason !== null) {
      report.not_adopted.push({ name: entry.name, env_file: entry.env_file, reason });
    } else if (entry.agent !== null) {
      candidates.push({ agent: entry.agent, envFile: entry.env_file });
    }
  }
  if (candidates.length === 0) return report;

  const running = new Map<string, boolean>();
  for (const { agent } of candidates) {
    running.set(agent.name, await units.isRunning(unitName(agent.name)));
  }
  if (dryRun) {
    for (const { agent } of candidates) {
      const started = running.get(agent.name) === true;
      report.adopted.push({ name: agent.name, started, status: null, moved: [] });
    }
    return report;
  }

  for (const { agent } of candidates) await units.stop(unitName(agent.name));
  report.runtime_moved = moveRuntimeAside(files, WHY_RUNTIME);
  if (report.runtime_moved.some((moved) => moved.from === files.unitPath)) {
    for (const entry of report.not_adopted) {
      entry.reason += `; its env file stays, but the original's unit template is moved aside: systemd cannot start ${unitName(entry.name)} the original's way again`;
    }
  }
  for (const { agent, envFile } of candidates) {
    const started = running.get(agent.name) === true;
    let created: AgentView;
    try {
      created = await agentd.create(creation(agent, started));
    } catch (error) {
      report.not_adopted.push({
        name: agent.name,
        env_file: envFile,
        reason: `agentd did not take it: ${errorMessage(error)}. Its unit is stopped and its env file left in place; fix the cause and run import-legacy --persistent again (it is then created stopped: agentd start ${agent.name})`,
      });
      continue;
    }
    const moved = moveAgentFilesAside(files, agent.name, WHY_AGENT);
    report.adopted.push({ name: agent.name, started, status: created.status, moved });
  }
  return report;
}

/** Why agentd cannot take this agent over as it is; null when it can. */
function whyNot(agent: AdoptableAgent, existing: Set<string>): string | null {
  if (existing.has(agent.name)) {
    return `agentd already has an agent named ${agent.name}; delete or rename that one first`;
  }
  if (!existsSync(agent.cwd) || !statSync(agent.cwd).isDirectory()) {
    return `its cwd ${agent.cwd} is not a directory`;
  }
  return null;
}

/** The create request that carries the original agent on in agentd. */
function creation(agent: AdoptableAgent, start: boolean): CreateAgentInput {
  return {
    name: agent.name,
    mode: "persistent",
    command: agent.command,
    provider: agent.provider,
    model: agent.model,
    cwd: agent.cwd,
    ...(agent.thinking === null ? {} : { thinking: agent.thinking }),
    extra_args: agent.extra_args,
    env: agent.env,
    // The original wrote each prompt as its bytes and a NUL; these agents know nothing else.
    turn_envelope: false,
    start,
  };
}
