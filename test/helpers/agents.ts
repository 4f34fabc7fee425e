import { join } from "node:path";
import { type ApiClient, REPO_ROOT, type TestDaemon } from "./daemon.ts";
import { waitFor } from "./wait.ts";

export const FAKE_AGENT = join(REPO_ROOT, "test/fixtures/fake-agent.ts");
export const FAKE_AGENT_COMMAND = [process.execPath, FAKE_AGENT];
/** What the fake agent reports per turn (1.5 cents). */
export const FAKE_TURN_COST = 15_000;

export interface AgentJson {
  id: string;
  status: string;
  pid: number | null;
  summary: string | null;
  title: string | null;
  error: string | null;
  exit_code: number | null;
  cost_micro_usd: number | null;
  cost_cents: number | null;
  input_tokens: number;
  output_tokens: number;
  turns: number;
  [key: string]: unknown;
}

export interface TurnJson {
  id: string;
  status: string;
  response: string | null;
  error: string | null;
  cost_micro_usd: number | null;
  [key: string]: unknown;
}

/** Create a run-mode agent with the fake agent; fails the test on a non-201 answer. */
export async function spawnFake(
  daemon: TestDaemon,
  body: Record<string, unknown> = {},
): Promise<AgentJson> {
  const res = await daemon.api<AgentJson>("/agents", {
    method: "POST",
    body: JSON.stringify({ command: FAKE_AGENT_COMMAND, cwd: daemon.home, ...body }),
  });
  if (res.status !== 201)
    throw new Error(`spawn failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function getAgent(daemon: ApiClient, id: string): Promise<AgentJson> {
  return (await daemon.api<AgentJson>(`/agents/${id}`)).body;
}

export async function waitForStatus(
  daemon: ApiClient,
  id: string,
  status: string,
  timeoutMs?: number,
) {
  return waitFor(
    `agent ${id} to be ${status}`,
    async () => {
      const agent = await getAgent(daemon, id);
      return agent.status === status ? agent : undefined;
    },
    timeoutMs,
  );
}

/** Send a prompt and wait for its turn to end; returns the send answer. */
export async function ask(
  daemon: ApiClient,
  id: string,
  message: string,
  extra: Record<string, unknown> = {},
) {
  const res = await daemon.api<{
    status: string;
    turn_id: string;
    response?: string;
    error?: string;
  }>(`/agents/${id}/send`, {
    method: "POST",
    body: JSON.stringify({ message, wait: true, timeout_ms: 20_000, ...extra }),
  });
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
