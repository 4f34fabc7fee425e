import type { AgentService } from "../agents/service.ts";
import type { Config } from "../config.ts";
import type { EventBus } from "../events/bus.ts";

/** What the HTTP layer may use; routes reach the rest of agentd only through this. */
export interface AppContext {
  config: Config;
  version: string;
  startedAt: number;
  agents: AgentService;
  events: EventBus;
  warnings(): string[];
}
