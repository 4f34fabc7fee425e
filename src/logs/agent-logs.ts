import { join } from "node:path";
import type { StorageHealth } from "../storage-health.ts";
import { AgentLog, type LogLimits } from "./agent-log.ts";

export interface AgentLogsDeps {
  root: string;
  limits: LogLimits;
  health: StorageHealth;
  /** Record something about an agent as one of its `log` events. */
  report(agentId: string, level: "warn" | "error", message: string): void;
}

/**
 * The agents' log files: where each one is, how far it may grow, and who hears of it when one
 * cannot be written — the agent's events, and /health until it can be written again.
 */
export class AgentLogs {
  constructor(private readonly deps: AgentLogsDeps) {}

  dir(agentId: string): string {
    return join(this.deps.root, agentId);
  }

  path(agentId: string): string {
    return join(this.dir(agentId), "agent.log");
  }

  open(agentId: string): AgentLog {
    const { health, report } = this.deps;
    return new AgentLog(this.path(agentId), this.deps.limits, {
      failed: (log, error) => {
        health.fail(
          log.path,
          () =>
            `cannot write the agent log ${log.path}: ${error} (${log.lostLines} line(s) lost so far)`,
        );
        report(
          agentId,
          "error",
          `cannot write its log ${log.path} (${error}): output lines are being lost`,
        );
      },
      recovered: (log, lost) => {
        health.recover(log.path);
        report(
          agentId,
          "warn",
          `its log ${log.path} can be written again; ${lost} line(s) were lost`,
        );
      },
      closedFailing: (log, lost) => {
        health.recover(log.path);
        report(
          agentId,
          "error",
          `${lost} line(s) could not be written to its log ${log.path} and are lost`,
        );
      },
    });
  }
}
