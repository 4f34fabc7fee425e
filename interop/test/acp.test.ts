/**
 * The Agent Client Protocol as opencode (`opencode acp`) and Gemini CLI (`gemini --acp`) speak
 * it, driven by hand against the fake provider: the same scenarios for both, with what differs
 * between them (permission settings, where usage is reported) in one table.
 */

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FakeLlm } from "../../test/fixtures/fake-llm.ts";
import { tempDir } from "../../test/helpers/tmp.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { backdateGeminiSessions, geminiArgs, geminiSetup } from "../clis/gemini.ts";
import { OPENCODE_ACP_ARGS, opencodeSetup } from "../clis/opencode.ts";
import { AcpClient } from "../lib/acp.ts";
import type { CliSetup } from "../lib/setup.ts";
import { saveTranscript } from "../lib/transcript.ts";
import { useInteropHarness } from "./harness.ts";

const llm = useInteropHarness();

// biome-ignore lint/suspicious/noExplicitAny: the agents' JSON, read field by field
type Json = any;

/** `ask`: tools that change things need session/request_permission; `allow-all`: they do not. */
type Policy = "ask" | "allow-all";

interface AcpAgent {
  name: string;
  setup(llm: FakeLlm, dir: string, policy: Policy): CliSetup;
  args(policy: Policy): string[];
  /** Token counts of one prompt, from its session/prompt result. */
  usage(result: Json): { input: number; output: number };
  /** Whether it reports the session's cost (`usage_update` notifications). */
  reportsCost: boolean;
  /** Runs between the first process's end and session/load in the second. */
  beforeLoad?(setup: CliSetup): void;
}

const AGENTS: AcpAgent[] = [
  {
    name: "opencode",
    setup: (llm, dir, policy) =>
      opencodeSetup(llm, dir, { permission: { bash: policy === "ask" ? "ask" : "allow" } }),
    args: () => OPENCODE_ACP_ARGS,
    usage: (result) => ({ input: result.usage.inputTokens, output: result.usage.outputTokens }),
    reportsCost: true,
  },
  {
    name: "gemini",
    setup: (llm, dir) => geminiSetup(llm, dir),
    args: (policy) => geminiArgs(policy === "ask" ? {} : { approvalMode: "yolo" }),
    usage: (result) => {
      const tokens = result._meta.quota.token_count;
      return { input: tokens.input_tokens, output: tokens.output_tokens };
    },
    reportsCost: false,
    beforeLoad: backdateGeminiSessions,
  },
];

async function startAgent(agent: AcpAgent, policy: Policy = "ask") {
  const setup = agent.setup(llm, tempDir(), policy);
  const client = await AcpClient.start(setup, agent.args(policy));
  return { setup, client };
}

describe.each(AGENTS)("$name over ACP", (agent) => {
  test("two prompts in one session: each answered, history carried, usage per prompt", async () => {
    const { setup, client } = await startAgent(agent);
    expect(client.initializeResult).toMatchObject({
      protocolVersion: 1,
      agentCapabilities: { loadSession: true },
    });
    const sessionId = await client.newSession(setup.cwd);
    const first = await client.prompt(sessionId, "hello there");
    expect(first.result.stopReason).toBe("end_turn");
    expect(first.text).toBe("echo: hello there");
    expect(agent.usage(first.result)).toEqual({ input: 120, output: 30 });
    const second = await client.prompt(sessionId, "second prompt");
    expect(second.text).toBe("echo: second prompt");
    expect(JSON.stringify(llm.modelCalls().at(-1)?.body)).toContain("echo: hello there");
    const costs = client
      .updates(sessionId)
      .filter((update) => update.sessionUpdate === "usage_update")
      .map((update) => update.cost.amount);
    // The session's running total, at the prices in opencode.json ($3 / $15 per million tokens).
    if (agent.reportsCost) expect(costs.at(-1)).toBeCloseTo(0.00162, 8);
    else expect(costs).toEqual([]);
    saveTranscript(client.cli, "two-turns");
    expect(await client.cli.stop()).toEqual({
      exitCode: 0,
      signal: null,
      how: "exited after stdin closed",
      leftovers: [],
    });
  });

  test("when the policy allows tools, a tool call runs without a permission request", async () => {
    const { setup, client } = await startAgent(agent, "allow-all");
    const sessionId = await client.newSession(setup.cwd);
    const outcome = await client.prompt(sessionId, "RUN: touch allowed.txt && echo ran-it");
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    expect(client.rpc.incoming).toHaveLength(0);
    expect(outcome.text).toStartWith("tool output: ");
    expect(outcome.text).toContain("ran-it");
    const updates = client.updates(sessionId);
    expect(updates.find((update) => update.sessionUpdate === "tool_call")).toMatchObject({
      kind: "execute",
    });
    expect(
      updates.filter((update) => update.sessionUpdate === "tool_call_update").at(-1),
    ).toMatchObject({
      status: "completed",
    });
    saveTranscript(client.cli, "tool-allowed");
  });

  test("otherwise the agent asks session/request_permission; a reject_once option stops the tool", async () => {
    const { setup, client } = await startAgent(agent);
    const sessionId = await client.newSession(setup.cwd);
    client.permissionAnswer = "deny";
    const outcome = await client.prompt(sessionId, "RUN: touch denied.txt");
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    expect(client.rpc.incoming).toHaveLength(1);
    const [request] = client.rpc.incoming;
    expect(request?.method).toBe("session/request_permission");
    expect(request?.params).toMatchObject({ sessionId, toolCall: { kind: "execute" } });
    const kinds = request?.params.options.map((option: Json) => option.kind).sort();
    expect(kinds).toEqual(["allow_always", "allow_once", "reject_once"]);
    expect(outcome.result.stopReason).toBe("end_turn");
    saveTranscript(client.cli, "tool-rejected");
  });

  test("an allow_once option lets the asked tool run", async () => {
    const { setup, client } = await startAgent(agent);
    const sessionId = await client.newSession(setup.cwd);
    client.permissionAnswer = "allow";
    const outcome = await client.prompt(sessionId, "RUN: touch asked.txt && echo made");
    expect(client.rpc.incoming).toHaveLength(1);
    expect(existsSync(join(setup.cwd, "asked.txt"))).toBe(true);
    expect(outcome.text).toContain("made");
    saveTranscript(client.cli, "tool-allowed-when-asked");
  });

  test("an HTTP 500 from the provider fails session/prompt with a JSON-RPC error; the session goes on", async () => {
    const { setup, client } = await startAgent(agent);
    const sessionId = await client.newSession(setup.cwd);
    const failure = await client.prompt(sessionId, "FAIL 500").then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toContain("fake-llm: HTTP 500 requested");
    const next = await client.prompt(sessionId, "after the failure");
    expect(next.text).toBe("echo: after the failure");
    saveTranscript(client.cli, "error-500");
  });

  test('session/cancel ends a running prompt with stopReason "cancelled"; the session goes on', async () => {
    const { setup, client } = await startAgent(agent);
    const sessionId = await client.newSession(setup.cwd);
    const from = client.cli.received.length;
    const slow = client.prompt(sessionId, "SLOW");
    await waitFor("the first streamed chunk", () =>
      client
        .updates(sessionId, from)
        .some((update) => update.sessionUpdate === "agent_message_chunk"),
    );
    client.cancel(sessionId);
    expect((await slow).result.stopReason).toBe("cancelled");
    // The conversation's own call (it offers tools), not opencode's title request for the prompt.
    const slowCall = llm
      .modelCalls()
      .find((call) => call.body.tools?.length > 0 && JSON.stringify(call.body).includes("SLOW"));
    await waitFor("the provider stream to be closed", () => slowCall?.disconnected);
    const next = await client.prompt(sessionId, "after the cancel");
    expect(next.text).toBe("echo: after the cancel");
    saveTranscript(client.cli, "cancel");
  });

  test("session/load continues a session in a new process", async () => {
    const first = await startAgent(agent);
    const sessionId = await first.client.newSession(first.setup.cwd);
    await first.client.prompt(sessionId, "remember the code word PELICAN");
    await first.client.cli.stop();
    agent.beforeLoad?.(first.setup);

    const client = await AcpClient.start(first.setup, agent.args("ask"));
    await client.loadSession(sessionId, first.setup.cwd);
    const asked = await client.prompt(sessionId, "what was the code word?");
    expect(asked.result.stopReason).toBe("end_turn");
    const history = JSON.stringify(llm.modelCalls().at(-1)?.body);
    expect(history).toContain("remember the code word PELICAN");
    expect(history).toContain("echo: remember the code word PELICAN");
    saveTranscript(client.cli, "load");
  });
});
