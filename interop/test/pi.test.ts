/** pi's RPC mode (`pi --mode rpc`), driven by hand against the fake provider. */

import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { driverFilesIn } from "../../src/agents/driver-files.ts";
import {
  GOODBYE_FILE,
  GOODBYE_SOURCE,
  PERMISSION_GATE_FILE,
  PERMISSION_GATE_SOURCE,
} from "../../src/protocols/pi.ts";
import { tempDir } from "../../test/helpers/tmp.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { PI_PERMISSION_GATE, type PiOptions, piArgs, piSetup } from "../clis/pi.ts";
import { CliProcess } from "../lib/cli-process.ts";
import type { CliSetup } from "../lib/setup.ts";
import { saveTranscript } from "../lib/transcript.ts";
import { useInteropHarness } from "./harness.ts";

const llm = useInteropHarness();

// biome-ignore lint/suspicious/noExplicitAny: pi's JSON, read field by field
type Json = any;

interface TurnOutcome {
  events: Json[];
  /** The last assistant message of the turn (its message_end). */
  last: Json;
  /** The turn's assistant messages' usage, summed (pi reports it per model call). */
  usage: { input: number; output: number; cost: number };
}

class PiClient {
  private nextId = 1;

  constructor(readonly cli: CliProcess) {}

  static start(setup: CliSetup, options: PiOptions = {}): PiClient {
    return new PiClient(CliProcess.start(setup, piArgs(options)));
  }

  /** Sends a command and waits for its response (matched by id). */
  async command(command: Json): Promise<Json> {
    const id = `req-${this.nextId++}`;
    const from = this.cli.received.length;
    this.cli.send({ id, ...command });
    const response = await this.cli.waitForMessage<Json>(
      `the response to ${command.type}`,
      (m) => m.type === "response" && m.id === id,
      { from },
    );
    if (!response.success) throw new Error(`${command.type} failed: ${response.error}`);
    return response;
  }

  /** A prompt, from its acceptance to agent_end (pi's own turn_start/turn_end are per model call). */
  async turn(message: string): Promise<TurnOutcome> {
    const from = this.cli.received.length;
    await this.command({ type: "prompt", message });
    return this.untilAgentEnd(from);
  }

  async untilAgentEnd(from: number): Promise<TurnOutcome> {
    await this.cli.waitForMessage<Json>("agent_end", (m) => m.type === "agent_end", { from });
    const events = this.cli.received.slice(from) as Json[];
    const assistant = events
      .filter((m) => m?.type === "message_end" && m.message.role === "assistant")
      .map((m) => m.message);
    const usage = { input: 0, output: 0, cost: 0 };
    for (const message of assistant) {
      usage.input += message.usage.input;
      usage.output += message.usage.output;
      usage.cost += message.usage.cost.total;
    }
    return { events, last: assistant.at(-1), usage };
  }
}

function textOf(message: Json): string {
  return message.content
    .filter((part: Json) => part.type === "text")
    .map((part: Json) => part.text)
    .join("");
}

describe("pi rpc", () => {
  test("two prompts on one process: each answered between agent_start and agent_end, with usage and cost", async () => {
    const setup = piSetup(llm, tempDir());
    const pi = PiClient.start(setup);
    const first = await pi.turn("hello there");
    expect(first.events.slice(0, 2)).toEqual([
      { id: "req-1", type: "response", command: "prompt", success: true },
      { type: "agent_start" },
    ]);
    expect(first.last).toMatchObject({
      role: "assistant",
      stopReason: "stop",
      provider: "fake",
      model: "fake-model",
    });
    expect(textOf(first.last)).toBe("echo: hello there");
    // models.json prices ($3 / $15 per million tokens): 120 in + 30 out = $0.00081.
    expect(first.usage.input).toBe(120);
    expect(first.usage.output).toBe(30);
    expect(first.usage.cost).toBeCloseTo(0.00081, 8);
    const second = await pi.turn("second prompt");
    expect(textOf(second.last)).toBe("echo: second prompt");
    expect(JSON.stringify(llm.modelCalls().at(-1)?.body.messages)).toContain("echo: hello there");
    const stats = await pi.command({ type: "get_session_stats" });
    expect(stats.data.tokens).toMatchObject({ input: 240, output: 60 });
    expect(stats.data.cost).toBeCloseTo(0.00162, 8);
    saveTranscript(pi.cli, "two-turns");
    expect(await pi.cli.stop()).toEqual({
      exitCode: 0,
      signal: null,
      how: "exited after stdin closed",
      leftovers: [],
    });
  });

  test("tools run without asking by default (pi has no permission prompts)", async () => {
    const setup = piSetup(llm, tempDir());
    const pi = PiClient.start(setup);
    const outcome = await pi.turn("RUN: touch allowed.txt && echo ran-it");
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    const end = outcome.events.find((m) => m.type === "tool_execution_end");
    expect(end).toMatchObject({ toolName: "bash", isError: false });
    expect(textOf(outcome.last)).toBe("tool output: ran-it\n");
    expect(outcome.usage).toMatchObject({ input: 240, output: 60 });
    saveTranscript(pi.cli, "tool-allowed");
  });

  test("--tools read,grep,find,ls leaves the model no shell tool", async () => {
    const setup = piSetup(llm, tempDir());
    const pi = PiClient.start(setup, { tools: ["read", "grep", "find", "ls"] });
    const outcome = await pi.turn("RUN: touch nope.txt");
    const tools = llm
      .modelCalls()
      .at(-1)
      ?.body.tools.map((tool: Json) => tool.function.name);
    expect(tools.sort()).toEqual(["find", "grep", "ls", "read"]);
    expect(textOf(outcome.last)).toStartWith("fake-llm: no shell tool");
    expect(existsSync(join(setup.cwd, "nope.txt"))).toBe(false);
  });

  test("a permission-gate extension asks over RPC (extension_ui_request confirm); false blocks the tool", async () => {
    const setup = piSetup(llm, tempDir());
    const pi = PiClient.start(setup, { extensions: [PI_PERMISSION_GATE] });
    const asked: Json[] = [];
    pi.cli.onMessage((message: Json) => {
      if (message.type !== "extension_ui_request" || message.method !== "confirm") return;
      asked.push(message);
      const confirmed = message.message.includes("allowed.txt");
      pi.cli.send({ type: "extension_ui_response", id: message.id, confirmed });
    });
    const denied = await pi.turn("RUN: touch denied.txt");
    expect(asked[0]).toMatchObject({
      title: "Allow bash?",
      message: JSON.stringify({ command: "touch denied.txt" }),
    });
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    expect(denied.events.find((m) => m.type === "tool_execution_end")).toMatchObject({
      isError: true,
    });
    expect(textOf(denied.last)).toBe("tool output: denied by agentd policy");
    const allowed = await pi.turn("RUN: touch allowed.txt");
    expect(asked).toHaveLength(2);
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    expect(allowed.events.find((m) => m.type === "tool_execution_end")).toMatchObject({
      isError: false,
    });
    saveTranscript(pi.cli, "tool-gated");
  });

  test("agentd's own gate (src/templates/pi-permission-gate.ts) asks before bash with a question agentd can tell; no blocks it", async () => {
    const setup = piSetup(llm, tempDir());
    const gate = driverFilesIn(join(setup.home, "agentd-drivers")).install(
      PERMISSION_GATE_FILE,
      PERMISSION_GATE_SOURCE,
    );
    const pi = PiClient.start(setup, { extensions: [gate] });
    const asked: Json[] = [];
    pi.cli.onMessage((message: Json) => {
      if (message.type !== "extension_ui_request" || message.method !== "confirm") return;
      asked.push(message);
      pi.cli.send({ type: "extension_ui_response", id: message.id, confirmed: false });
    });
    const denied = await pi.turn("RUN: touch denied.txt");
    expect(asked).toHaveLength(1);
    expect(asked[0].title).toBe("Allow bash?");
    expect(JSON.parse(asked[0].message)).toEqual({
      question: "agentd-permission",
      tool: "bash",
      input: { command: "touch denied.txt" },
    });
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    expect(textOf(denied.last)).toBe("tool output: agentd's permission policy denied bash");
    saveTranscript(pi.cli, "tool-agentd-gate");
  });

  test("agentd's goodbye extension: the prompt /agentd-goodbye makes pi exit 0 while its input stays open", async () => {
    const setup = piSetup(llm, tempDir());
    const goodbye = driverFilesIn(join(setup.home, "agentd-drivers")).install(
      GOODBYE_FILE,
      GOODBYE_SOURCE,
    );
    const pi = PiClient.start(setup, { extensions: [goodbye] });
    await pi.turn("hello before goodbye");
    await pi.command({ type: "prompt", message: "/agentd-goodbye" });
    expect(await pi.cli.exited).toBe(0);
    expect(llm.modelCalls().map((call) => JSON.stringify(call.body))).not.toContainEqual(
      expect.stringContaining("agentd-goodbye"),
    );
    saveTranscript(pi.cli, "goodbye");
  });

  test("with retries on, pi retries a failed call after its agent_end: auto_retry_start, another agent_start … agent_end, auto_retry_end", async () => {
    const setup = piSetup(llm, tempDir());
    writeFileSync(
      join(setup.env.PI_CODING_AGENT_DIR as string, "settings.json"),
      JSON.stringify({ retry: { enabled: true, maxRetries: 1, baseDelayMs: 1 } }),
    );
    const pi = PiClient.start(setup);
    const from = pi.cli.received.length;
    await pi.command({ type: "prompt", message: "FAIL 500" });
    await pi.cli.waitForMessage<Json>("the end of retrying", (m) => m.type === "auto_retry_end", {
      from,
    });
    const kinds = (pi.cli.received.slice(from) as Json[])
      .map((m) => m.type)
      .filter((type) => /^(agent_|auto_retry_)/.test(type));
    expect(kinds).toEqual([
      "agent_start",
      "agent_end",
      "auto_retry_start",
      "agent_start",
      "agent_end",
      "auto_retry_end",
    ]);
    const next = await pi.turn("after the retries");
    expect(textOf(next.last)).toBe("echo: after the retries");
    saveTranscript(pi.cli, "retry");
  });

  test('an HTTP 500 from the provider ends the prompt with stopReason "error"; the next prompt works', async () => {
    const setup = piSetup(llm, tempDir());
    const pi = PiClient.start(setup);
    const failed = await pi.turn("FAIL 500");
    expect(failed.last.stopReason).toBe("error");
    expect(failed.last.errorMessage).toContain("500");
    expect(failed.events.some((m) => m.type === "auto_retry_start")).toBe(false);
    const next = await pi.turn("after the failure");
    expect(textOf(next.last)).toBe("echo: after the failure");
    saveTranscript(pi.cli, "error-500");
  });

  test('abort ends a running prompt with stopReason "aborted" without stopping pi', async () => {
    const setup = piSetup(llm, tempDir());
    const pi = PiClient.start(setup);
    const from = pi.cli.received.length;
    await pi.command({ type: "prompt", message: "SLOW" });
    await pi.cli.waitForMessage<Json>(
      "the first text delta",
      (m) => m.type === "message_update" && m.assistantMessageEvent.type === "text_delta",
      { from },
    );
    await pi.command({ type: "abort" });
    const aborted = await pi.untilAgentEnd(from);
    expect(aborted.last.stopReason).toBe("aborted");
    const slowCall = llm
      .modelCalls()
      .find((call) => JSON.stringify(call.body.messages).includes("SLOW"));
    await waitFor("the provider stream to be closed", () => slowCall?.disconnected);
    const next = await pi.turn("after the abort");
    expect(textOf(next.last)).toBe("echo: after the abort");
    saveTranscript(pi.cli, "abort");
  });

  test("--session <id> continues a session in a new process", async () => {
    const setup = piSetup(llm, tempDir());
    const first = PiClient.start(setup);
    await first.turn("remember the code word PELICAN");
    const state = await first.command({ type: "get_state" });
    const { sessionId, sessionFile } = state.data;
    expect(existsSync(sessionFile)).toBe(true);
    await first.cli.stop();

    const second = PiClient.start(setup, { session: sessionId });
    const resumed = await second.command({ type: "get_state" });
    expect(resumed.data.sessionId).toBe(sessionId);
    await second.turn("what was the code word?");
    const history = JSON.stringify(llm.modelCalls().at(-1)?.body.messages);
    expect(history).toContain("remember the code word PELICAN");
    expect(history).toContain("echo: remember the code word PELICAN");
    saveTranscript(second.cli, "resume");
  });
});
