import type { Config } from "../config.ts";
import { BadRequestError } from "../errors.ts";
import type { ProtocolDriver } from "../protocols/session.ts";
import type { AgentRecord } from "../store/agents.ts";
import { driverFilesIn } from "./driver-files.ts";

/** How to start an agent's process: the same for both runtimes. */
export interface LaunchSpec {
  /** The program (an absolute path) and every argument. */
  argv: string[];
  /** The agent's own variables: its protocol's and the ones it was created with. */
  env: Record<string, string>;
  cwd: string;
}

export type LaunchAgent = Pick<
  AgentRecord,
  "command" | "provider" | "model" | "thinking" | "extra_args" | "env" | "cwd" | "permissions"
> &
  Partial<Pick<AgentRecord, "session_id">>;

/** The daemon's settings a command line depends on. */
export type LaunchConfig = Pick<Config, "agentCommand" | "driverFilesDir">;

/**
 * The command line of an agent: its command, then its protocol's arguments (model, thinking,
 * output format…), then its extra args. `runId` names a persistent agent's long-lived run.
 * Files the protocol's arguments name are in place once this returns.
 */
export function launchSpec(
  agent: LaunchAgent,
  driver: ProtocolDriver,
  config: LaunchConfig,
  runId: string | null = null,
): LaunchSpec {
  const protocol = driver.launch(
    {
      provider: agent.provider,
      model: agent.model,
      thinking: agent.thinking,
      permissions: agent.permissions,
      sessionId: agent.session_id ?? null,
      runId,
    },
    driverFilesIn(config.driverFilesDir),
  );
  const command = agent.command ?? [defaultProgram(driver, config.agentCommand)];
  return {
    argv: [...command, ...protocol.args, ...agent.extra_args],
    env: { ...protocol.env, ...agent.env },
    cwd: agent.cwd,
  };
}

/** The program an agent runs when its request named none; some protocols have none. */
export function defaultProgram(driver: ProtocolDriver, defaultCommand: string): string {
  if (driver.command === null) return defaultCommand;
  if (typeof driver.command === "string") return driver.command;
  throw new BadRequestError(
    `protocol "${driver.name}" has no default program: give command (${driver.command.required})`,
  );
}
