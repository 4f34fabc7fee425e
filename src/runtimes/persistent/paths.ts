import { join } from "node:path";
import type { Config } from "../../config.ts";

/** Where each persistent-agent file lives, derived from the directories config.ts resolves. */

export function unitName(agentName: string): string {
  return `agentd-agent@${agentName}.service`;
}

export function agentUnitPath(config: Config): string {
  return join(config.systemdUserDir, "agentd-agent@.service");
}

export function agentExecPath(config: Config): string {
  return join(config.persistentConfigDir, "agent-exec.sh");
}

export function envFilePath(config: Config, agentName: string): string {
  return join(config.persistentConfigDir, `${agentName}.env`);
}

/** The hashes of the files agentd generated, kept beside them. */
export function manifestPath(config: Config): string {
  return join(config.persistentConfigDir, "generated.json");
}

export function fifoPath(config: Config, agentName: string): string {
  return join(config.stateDir, `${agentName}.fifo`);
}

export function eventsPath(config: Config, agentName: string): string {
  return join(config.stateDir, `${agentName}.events.jsonl`);
}
