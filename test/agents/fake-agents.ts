/** Driving test/fixtures/fake-agent.ts through a test daemon's HTTP API. */
import { expect } from "bun:test";
import { join } from "node:path";
import { REPO_ROOT, type TestDaemon } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";

export const FAKE_AGENT = join(REPO_ROOT, "test/fixtures/fake-agent.ts");

export interface AgentView {
  id: string;
  status: string;
  title: string | null;
  summary: string | null;
  error: string | null;
  exit_code: number | null;
  cost_micro_usd: number | null;
  turns: number;
}

export interface TurnOutcome {
  status: string;
  turn_id: string;
  response?: string;
  error?: string;
}

/** Create and start a fake agent; resolves once the API has answered 201. */
export async function createFakeAgent(
  daemon: TestDaemon,
  fields: { prompt?: string; webhook?: string } = {},
): Promise<AgentView> {
  const created = await daemon.api<AgentView>("/agents", {
    method: "POST",
    body: JSON.stringify({
      command: [process.execPath, FAKE_AGENT],
      cwd: tempDir("agentd-agent-cwd-"),
      ...fields,
    }),
  });
  expect(created.status).toBe(201);
  return created.body;
}

/** Send one prompt and wait for its turn to end. */
export async function sendAndWait(
  daemon: TestDaemon,
  agentId: string,
  message: string,
): Promise<TurnOutcome> {
  const sent = await daemon.api<TurnOutcome>(`/agents/${agentId}/send`, {
    method: "POST",
    body: JSON.stringify({ message, wait: true, timeout_ms: 15_000 }),
  });
  expect(sent.status).toBe(200);
  return sent.body;
}

export async function getAgent(daemon: TestDaemon, agentId: string): Promise<AgentView> {
  const agent = await daemon.api<AgentView>(`/agents/${agentId}`);
  expect(agent.status).toBe(200);
  return agent.body;
}
