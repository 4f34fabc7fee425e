import type { Database } from "bun:sqlite";
import { type AgentStatus, countAgentsByStatus } from "../store/agents.ts";

/** Everything the API can do with agents, whatever their mode. */
export class AgentService {
  constructor(private readonly db: Database) {}

  countByStatus(): Partial<Record<AgentStatus, number>> {
    return countAgentsByStatus(this.db);
  }
}
