import type { Agentd } from "./agentd.ts";

export interface AgentBody {
  name: string;
  command: string[];
  mode?: "run" | "persistent";
  env?: Record<string, string>;
  start?: boolean;
}

interface AgentJson {
  id: string;
  status: string;
}

interface SendJson {
  status: string;
  turn_id: string;
  response?: string | null;
  error?: string | null;
}

const TURN_TIMEOUT_MS = 300_000;

/** Create an agent through the API; its id. */
export async function createAgent(daemon: Agentd, body: AgentBody): Promise<string> {
  const agent = await daemon.post<AgentJson>("/agents", { cwd: daemon.home, ...body });
  return agent.id;
}

/** Send a prompt and wait for the turn to end; fails unless it completed. */
export async function turn(daemon: Agentd, id: string, message: string): Promise<void> {
  const answer = await daemon.post<SendJson>(`/agents/${id}/send`, {
    message,
    wait: true,
    timeout_ms: TURN_TIMEOUT_MS,
  });
  if (answer.status !== "completed") {
    throw new Error(
      `turn ${answer.turn_id} of ${id} ended ${answer.status}: ${answer.error ?? ""}`,
    );
  }
}

export async function removeAgent(daemon: Agentd, id: string): Promise<void> {
  await daemon.api(`/agents/${id}`, { method: "DELETE" });
}
