import type { CostBook } from "../agents/cost-book.ts";
import type { AgentService } from "../agents/service.ts";
import type { Config } from "../config.ts";
import type { EventBus } from "../events/bus.ts";
import type { AgentdMetrics } from "../metrics/metrics.ts";
import type { AgentWorkspaces } from "../workspace/agent-workspaces.ts";

/** What the HTTP layer may use; routes reach the rest of agentd only through this. */
export interface AppContext {
  config: Config;
  version: string;
  startedAt: number;
  agents: AgentService;
  events: EventBus;
  workspaces: AgentWorkspaces;
  costs: CostBook;
  metrics: AgentdMetrics;
  /** What cannot be written now (storage): /health is not ok while there is any. */
  problems(): string[];
  warnings(): string[];
}
