/**
 * Claude Code's stream-json mode (`claude -p --input-format stream-json --output-format
 * stream-json --verbose`), driven by hand against the fake provider.
 */

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../test/helpers/tmp.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { CLAUDE_MODEL, type ClaudeOptions, claudeArgs, claudeSetup } from "../clis/claude.ts";
import { CliProcess } from "../lib/cli-process.ts";
import type { CliSetup } from "../lib/setup.ts";
import { saveTranscript } from "../lib/transcript.ts";
import { useInteropHarness } from "./harness.ts";

const llm = useInteropHarness();

// biome-ignore lint/suspicious/noExplicitAny: Claude Code's JSON, read field by field
type Message = any;

function userLine(text: string) {
  return { type: "user", message: { role: "user", content: text }, parent_tool_use_id: null };
}

/** One turn: the user message written, and the messages up to its `result`. */
async function turn(
  cli: CliProcess,
  text: string,
): Promise<{ result: Message; messages: Message[] }> {
  const from = cli.received.length;
  cli.send(userLine(text));
  const result = await cli.waitForMessage<Message>(
    "the turn's result",
    (m) => m.type === "result",
    {
      from,
    },
  );
  return { result, messages: cli.received.slice(from) };
}

function start(setup: CliSetup, options: ClaudeOptions = {}): CliProcess {
  return CliProcess.start(setup, claudeArgs(options));
}

/** Answers every `can_use_tool` control request with `behavior`. */
function answerPermissions(cli: CliProcess, behavior: "allow" | "deny"): void {
  cli.onMessage((message: Message) => {
    if (message.type !== "control_request" || message.request?.subtype !== "can_use_tool") return;
    const response =
      behavior === "allow"
        ? { behavior: "allow", updatedInput: message.request.input }
        : { behavior: "deny", message: "denied by agentd policy" };
    cli.send({
      type: "control_response",
      response: { subtype: "success", request_id: message.request_id, response },
    });
  });
}

describe("claude stream-json", () => {
  test("two turns on one process: each prompt answered, history carried, usage per turn, cost cumulative", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup);
    const first = await turn(cli, "hello there");
    expect(first.result).toMatchObject({
      subtype: "success",
      is_error: false,
      result: "echo: hello there",
      usage: { input_tokens: 120, output_tokens: 30 },
    });
    const init = first.messages.find((m) => m.type === "system" && m.subtype === "init");
    expect(init).toMatchObject({ session_id: first.result.session_id, model: CLAUDE_MODEL });
    expect(init.tools).toContain("Bash");
    const second = await turn(cli, "second prompt");
    expect(second.result.result).toBe("echo: second prompt");
    expect(second.result.session_id).toBe(first.result.session_id);
    expect(second.result.usage).toMatchObject({ input_tokens: 120, output_tokens: 30 });
    // Sonnet prices ($3 / $15 per million tokens): 120 in + 30 out = $0.00081 per call.
    expect(first.result.total_cost_usd).toBeCloseTo(0.00081, 8);
    expect(second.result.total_cost_usd).toBeCloseTo(0.00162, 8);
    const lastCall = llm.modelCalls().at(-1);
    expect(JSON.stringify(lastCall?.body.messages)).toContain("echo: hello there");
    saveTranscript(cli, "two-turns");
    expect(await cli.stop()).toEqual({
      exitCode: 0,
      signal: null,
      how: "exited after stdin closed",
      leftovers: [],
    });
  });

  test("a tool call runs when its tool is allowed, and its output goes back to the model", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup, { allowedTools: ["Bash"] });
    const { result, messages } = await turn(cli, "RUN: touch allowed.txt && echo ran-it");
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    expect(result.result).toBe("tool output: ran-it");
    expect(result.usage).toMatchObject({ input_tokens: 240, output_tokens: 60 });
    const toolUse = messages.find(
      (m) => m.type === "assistant" && m.message.content[0]?.type === "tool_use",
    );
    expect(toolUse.message.content[0]).toMatchObject({
      name: "Bash",
      input: { command: "touch allowed.txt && echo ran-it" },
    });
    saveTranscript(cli, "tool-allowed");
  });

  test("without a rule or a permission tool, a tool that needs permission is denied at once", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup);
    const { result } = await turn(cli, "RUN: touch denied.txt");
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    expect(result.permission_denials).toEqual([
      expect.objectContaining({
        tool_name: "Bash",
        tool_input: expect.objectContaining({ command: "touch denied.txt" }),
      }),
    ]);
    expect(result.result).toStartWith("tool output: ");
    saveTranscript(cli, "tool-denied-by-mode");
  });

  test("with --permission-prompt-tool stdio, permission is asked as a can_use_tool control request", async () => {
    const setup = claudeSetup(llm, tempDir());
    const denying = start(setup, { askOverStdio: true });
    answerPermissions(denying, "deny");
    const denied = await turn(denying, "RUN: touch asked.txt");
    const request = denied.messages.find((m) => m.type === "control_request");
    expect(request.request).toMatchObject({
      subtype: "can_use_tool",
      tool_name: "Bash",
      input: { command: "touch asked.txt" },
    });
    expect(existsSync(join(setup.cwd, "asked.txt"))).toBe(false);
    expect(denied.result.result).toBe("tool output: denied by agentd policy");
    expect(denied.result.permission_denials).toHaveLength(1);
    saveTranscript(denying, "tool-asked-denied");
    await denying.stop();

    const allowing = start(setup, { askOverStdio: true });
    answerPermissions(allowing, "allow");
    const allowed = await turn(allowing, "RUN: touch asked.txt && echo made");
    expect(existsSync(join(setup.cwd, "asked.txt"))).toBe(true);
    expect(allowed.result.result).toBe("tool output: made");
    saveTranscript(allowing, "tool-asked-allowed");
  });

  test("an HTTP 500 from the provider ends the turn as an error, and the next prompt still works", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup);
    const failed = await turn(cli, "FAIL 500");
    expect(failed.result).toMatchObject({ type: "result", is_error: true });
    expect(failed.result.api_error_status).toBe(500);
    const next = await turn(cli, "after the failure");
    expect(next.result).toMatchObject({ is_error: false, result: "echo: after the failure" });
    saveTranscript(cli, "error-500");
  });

  test("an interrupt control request cancels a running turn without stopping the process", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup);
    const from = cli.received.length;
    cli.send(userLine("SLOW"));
    const slowCall = await waitFor("the slow model call", () =>
      llm
        .modelCalls()
        .find((call) => JSON.stringify(call.body).includes("SLOW") && call.reply === "text"),
    );
    cli.send({
      type: "control_request",
      request_id: "interrupt-1",
      request: { subtype: "interrupt" },
    });
    const ack = await cli.waitForMessage<Message>(
      "the interrupt's control_response",
      (m) => m.type === "control_response" && m.response?.request_id === "interrupt-1",
    );
    expect(ack.response.subtype).toBe("success");
    const result = await cli.waitForMessage<Message>(
      "the cancelled turn's result",
      (m) => m.type === "result",
      { from },
    );
    expect(result).toMatchObject({ is_error: true, subtype: "error_during_execution" });
    await waitFor("the provider stream to be closed", () => slowCall.disconnected);
    const next = await turn(cli, "after the interrupt");
    expect(next.result.result).toBe("echo: after the interrupt");
    saveTranscript(cli, "interrupt");
  });

  test("a prompt written while a turn works is folded into that turn, not given its own", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup, { allowedTools: ["Bash"] });
    const from = cli.received.length;
    cli.send(userLine("RUN: sleep 3 && echo slept"));
    await cli.waitForMessage<Message>("the tool call", (m) => m.type === "assistant", { from });
    cli.send(userLine("a second prompt"));
    const first = await cli.waitForMessage<Message>("the result", (m) => m.type === "result", {
      from,
    });
    // The second prompt rode along with the tool's result, in the same turn.
    const toolResultCall = llm.modelCalls().at(-1);
    expect(JSON.stringify(toolResultCall?.body.messages.at(-1))).toContain("a second prompt");
    expect(first.result).toStartWith("tool output: slept");
    const next = await turn(cli, "a third prompt");
    expect(next.result.result).toBe("echo: a third prompt");
    saveTranscript(cli, "prompt-folded");
  });

  test("the end_session control request ends the process with 0 while stdin stays open", async () => {
    const setup = claudeSetup(llm, tempDir());
    const cli = start(setup);
    await turn(cli, "hello there");
    cli.send({ type: "control_request", request_id: "bye-1", request: { subtype: "end_session" } });
    expect(await cli.exited).toBe(0);
    expect(cli.received.at(-1)).toEqual({
      type: "control_response",
      response: { subtype: "success", request_id: "bye-1" },
    });
  });

  test("--resume <session_id> continues the conversation in a new process", async () => {
    const setup = claudeSetup(llm, tempDir());
    const first = start(setup);
    const told = await turn(first, "remember the code word PELICAN");
    const sessionId = told.result.session_id;
    await first.stop();

    const second = start(setup, { resume: sessionId });
    const asked = await turn(second, "what was the code word?");
    expect(asked.result.session_id).toBe(sessionId);
    const history = JSON.stringify(llm.modelCalls().at(-1)?.body.messages);
    expect(history).toContain("remember the code word PELICAN");
    expect(history).toContain("echo: remember the code word PELICAN");
    // total_cost_usd restarts with the process: it counts this process's calls only.
    expect(asked.result.total_cost_usd).toBeCloseTo(0.00081, 8);
    saveTranscript(second, "resume");
  });
});
