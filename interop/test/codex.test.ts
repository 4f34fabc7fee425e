/** Codex's long-lived JSON-RPC interface (`codex app-server`), driven by hand against the fake provider. */

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../test/helpers/tmp.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { CODEX_APP_SERVER_ARGS, codexSetup } from "../clis/codex.ts";
import { CliProcess } from "../lib/cli-process.ts";
import { JsonRpcPeer } from "../lib/json-rpc.ts";
import type { CliSetup } from "../lib/setup.ts";
import { saveTranscript } from "../lib/transcript.ts";
import { useInteropHarness } from "./harness.ts";

const llm = useInteropHarness();

// biome-ignore lint/suspicious/noExplicitAny: codex's JSON, read field by field
type Json = any;

interface TurnOutcome {
  turn: Json;
  /** The completed agent message items' text, joined. */
  text: string;
  /** The last thread/tokenUsage/updated of the turn. */
  tokenUsage: Json;
  notifications: Json[];
}

class CodexClient {
  readonly rpc: JsonRpcPeer;

  constructor(readonly cli: CliProcess) {
    this.rpc = new JsonRpcPeer(cli);
  }

  static async start(setup: CliSetup, args: string[] = []): Promise<CodexClient> {
    const client = new CodexClient(CliProcess.start(setup, [...CODEX_APP_SERVER_ARGS, ...args]));
    await client.rpc.request("initialize", {
      clientInfo: { name: "agentd", title: "agentd", version: "0.1.0" },
      capabilities: null,
    });
    client.rpc.notify("initialized");
    return client;
  }

  /** Starts a turn and waits for its turn/completed. */
  async turn(threadId: string, text: string): Promise<TurnOutcome> {
    const { from, turnId } = await this.startTurn(threadId, text);
    return this.completion(turnId, from);
  }

  async startTurn(threadId: string, text: string): Promise<{ from: number; turnId: string }> {
    const from = this.cli.received.length;
    const started = await this.rpc.request("turn/start", {
      threadId,
      input: [{ type: "text", text, text_elements: [] }],
    });
    return { from, turnId: started.turn.id };
  }

  async completion(turnId: string, from: number): Promise<TurnOutcome> {
    const completed = await this.cli.waitForMessage<Json>(
      `turn/completed for ${turnId}`,
      (m) => m.method === "turn/completed" && m.params.turn.id === turnId,
      { from },
    );
    const notifications = this.cli.received.slice(from) as Json[];
    const ofTurn = (method: string) =>
      notifications.filter((m) => m?.method === method && m.params.turnId === turnId);
    const messages = ofTurn("item/completed").filter((m) => m.params.item.type === "agentMessage");
    return {
      turn: completed.params.turn,
      text: messages.map((m) => m.params.item.text).join(""),
      tokenUsage: ofTurn("thread/tokenUsage/updated").at(-1)?.params.tokenUsage,
      notifications,
    };
  }
}

/** A patch that adds one file, in codex's patch language, through its shell tool (codex takes it as a file change). */
function addFilePatch(path: string): string {
  return [
    "SCRIPT:",
    "apply_patch <<'EOF'",
    "*** Begin Patch",
    `*** Add File: ${path}`,
    "+patched",
    "*** End Patch",
    "EOF",
  ].join("\n");
}

describe("codex app-server", () => {
  test("two turns on one thread: each prompt answered, history carried, tokens per turn and in total", async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    const { thread } = await codex.rpc.request("thread/start", { cwd: setup.cwd });
    const first = await codex.turn(thread.id, "hello there");
    expect(first.turn.status).toBe("completed");
    expect(first.text).toBe("echo: hello there");
    expect(first.tokenUsage.last).toMatchObject({
      inputTokens: 120,
      outputTokens: 30,
      totalTokens: 150,
    });
    const second = await codex.turn(thread.id, "second prompt");
    expect(second.text).toBe("echo: second prompt");
    expect(second.tokenUsage.last).toMatchObject({ inputTokens: 120, outputTokens: 30 });
    expect(second.tokenUsage.total).toMatchObject({ inputTokens: 240, outputTokens: 60 });
    expect(JSON.stringify(llm.modelCalls().at(-1)?.body.input)).toContain("echo: hello there");
    saveTranscript(codex.cli, "two-turns");
    expect(await codex.cli.stop()).toEqual({
      exitCode: 0,
      signal: null,
      how: "exited after stdin closed",
      leftovers: [],
    });
  });

  test('with approvalPolicy "never" and sandbox "danger-full-access", a tool call runs without asking', async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    const { thread } = await codex.rpc.request("thread/start", {
      cwd: setup.cwd,
      approvalPolicy: "never",
      sandbox: "danger-full-access",
    });
    const outcome = await codex.turn(thread.id, "RUN: touch allowed.txt && echo ran-it");
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    expect(codex.rpc.incoming).toHaveLength(0);
    const command = outcome.notifications.find(
      (m) => m.method === "item/completed" && m.params.item.type === "commandExecution",
    );
    expect(command.params.item).toMatchObject({
      status: "completed",
      exitCode: 0,
      aggregatedOutput: "ran-it\n",
    });
    expect(outcome.text).toContain("ran-it");
    saveTranscript(codex.cli, "tool-allowed");
  });

  test('with approvalPolicy "untrusted", a command asks item/commandExecution/requestApproval; "decline" stops it', async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    codex.rpc.answerRequests(() => ({ decision: "decline" }));
    const { thread } = await codex.rpc.request("thread/start", {
      cwd: setup.cwd,
      approvalPolicy: "untrusted",
      sandbox: "read-only",
    });
    const outcome = await codex.turn(thread.id, "RUN: touch asked.txt");
    expect(existsSync(join(setup.cwd, "asked.txt"))).toBe(false);
    expect(codex.rpc.incoming).toEqual([
      expect.objectContaining({
        method: "item/commandExecution/requestApproval",
        params: expect.objectContaining({
          threadId: thread.id,
          command: "/bin/bash -lc 'touch asked.txt'",
        }),
      }),
    ]);
    const command = outcome.notifications.find(
      (m) => m.method === "item/completed" && m.params.item.type === "commandExecution",
    );
    expect(command.params.item.status).toBe("declined");
    expect(outcome.turn.status).toBe("completed");
    expect(outcome.text).toContain("rejected by user");
    saveTranscript(codex.cli, "tool-declined");
  });

  test('"accept" lets the asked command run', async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    codex.rpc.answerRequests(() => ({ decision: "accept" }));
    const { thread } = await codex.rpc.request("thread/start", {
      cwd: setup.cwd,
      approvalPolicy: "untrusted",
      sandbox: "workspace-write",
    });
    const outcome = await codex.turn(thread.id, "RUN: touch accepted.txt && echo made");
    expect(codex.rpc.incoming).toHaveLength(1);
    expect(existsSync(join(setup.cwd, "accepted.txt"))).toBe(true);
    expect(outcome.text).toContain("made");
  });

  test('a file change asks item/fileChange/requestApproval, whose item (started before it) holds the changes; "decline" leaves the file unwritten', async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    codex.rpc.answerRequests(() => ({ decision: "decline" }));
    const { thread } = await codex.rpc.request("thread/start", {
      cwd: setup.cwd,
      approvalPolicy: "on-request",
      sandbox: "read-only",
    });
    const outcome = await codex.turn(thread.id, addFilePatch("patched.txt"));
    expect(existsSync(join(setup.cwd, "patched.txt"))).toBe(false);
    const [request] = codex.rpc.incoming;
    expect(request).toMatchObject({
      method: "item/fileChange/requestApproval",
      params: { threadId: thread.id, reason: null, grantRoot: null },
    });
    const started = outcome.notifications.find(
      (m) => m.method === "item/started" && m.params.item.id === request?.params.itemId,
    );
    expect(started.params.item).toMatchObject({
      type: "fileChange",
      changes: [{ path: join(setup.cwd, "patched.txt"), kind: { type: "add" } }],
    });
    const completed = outcome.notifications.find(
      (m) => m.method === "item/completed" && m.params.item.id === request?.params.itemId,
    );
    expect(completed.params.item.status).toBe("declined");
    expect(outcome.turn.status).toBe("completed");
    expect(outcome.text).toBe("tool output: patch rejected by user");
    saveTranscript(codex.cli, "file-change-declined");
  });

  test('"cancel" as an approval\'s answer ends the turn as interrupted, for a command and for a file change', async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    codex.rpc.answerRequests(() => ({ decision: "cancel" }));
    const { thread } = await codex.rpc.request("thread/start", {
      cwd: setup.cwd,
      approvalPolicy: "untrusted",
      sandbox: "read-only",
    });
    const command = await codex.turn(thread.id, "RUN: touch asked.txt");
    expect(command.turn.status).toBe("interrupted");
    const patch = await codex.turn(thread.id, addFilePatch("patched.txt"));
    expect(patch.turn.status).toBe("interrupted");
    expect(codex.rpc.incoming.map((request) => request.method)).toEqual([
      "item/commandExecution/requestApproval",
      "item/fileChange/requestApproval",
    ]);
    for (const name of ["asked.txt", "patched.txt"]) {
      expect(existsSync(join(setup.cwd, name))).toBe(false);
    }
    const next = await codex.turn(thread.id, "after the cancel");
    expect(next.text).toBe("echo: after the cancel");
    saveTranscript(codex.cli, "approval-cancelled");
  });

  test('"untrusted" is refused as a configuration value (it is still taken as a thread/start param)', async () => {
    const setup = codexSetup(llm, tempDir());
    const cli = CliProcess.start(setup, [
      ...CODEX_APP_SERVER_ARGS,
      "-c",
      'approval_policy="untrusted"',
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toContain('approval_policy = "untrusted" is no longer supported');
  });

  test("a turn/start while a turn runs joins that turn (same id, one turn/completed) instead of starting one", async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    const { thread } = await codex.rpc.request("thread/start", { cwd: setup.cwd });
    const { from, turnId } = await codex.startTurn(thread.id, "SLOW 10");
    const joined = await codex.startTurn(thread.id, "second prompt");
    expect(joined.turnId).toBe(turnId);
    const outcome = await codex.completion(turnId, from);
    expect(outcome.text).toBe("echo: second prompt");
    const lastCall = JSON.stringify(llm.modelCalls().at(-1)?.body.input);
    expect(lastCall).toContain("SLOW 10");
    expect(outcome.notifications.filter((m) => m.method === "turn/started")).toHaveLength(1);
  });

  test("a resumed thread keeps the settings it was started with unless thread/resume names them again", async () => {
    const setup = codexSetup(llm, tempDir());
    const first = await CodexClient.start(setup);
    const started = await first.rpc.request("thread/start", {
      cwd: setup.cwd,
      approvalPolicy: "never",
      sandbox: "danger-full-access",
      config: { model_reasoning_effort: "high" },
    });
    expect(started).toMatchObject({ approvalPolicy: "never", reasoningEffort: "high" });
    await first.turn(started.thread.id, "hello");
    await first.cli.stop();

    // The process's own configuration does not reach a resumed thread…
    const readOnly = ["-c", 'approval_policy="on-request"', "-c", 'sandbox_mode="read-only"'];
    const second = await CodexClient.start(setup, readOnly);
    const kept = await second.rpc.request("thread/resume", {
      threadId: started.thread.id,
      excludeTurns: true,
    });
    expect(kept).toMatchObject({
      approvalPolicy: "never",
      sandbox: { type: "dangerFullAccess" },
      reasoningEffort: "high",
    });
    await second.cli.stop();

    // …the params of thread/resume do.
    const third = await CodexClient.start(setup);
    const from = third.cli.received.length;
    const changed = await third.rpc.request("thread/resume", {
      threadId: started.thread.id,
      excludeTurns: true,
      approvalPolicy: "on-request",
      sandbox: "read-only",
      config: { model_reasoning_effort: "low" },
    });
    expect(changed).toMatchObject({
      approvalPolicy: "on-request",
      sandbox: { type: "readOnly" },
      reasoningEffort: "low",
    });
    // thread/resume repeats the thread's stored token totals, for a turn of the earlier process.
    const restored = await third.cli.waitForMessage<Json>(
      "the restored token totals",
      (m) => m.method === "thread/tokenUsage/updated",
      { from },
    );
    expect(restored.params.tokenUsage.total).toMatchObject({ inputTokens: 120, outputTokens: 30 });
    await third.turn(started.thread.id, "again");
    expect(llm.modelCalls().at(-1)?.body.reasoning).toEqual({ effort: "low" });
  });

  test("an HTTP 500 from the provider fails the turn (error notification, status failed); the thread goes on", async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    const { thread } = await codex.rpc.request("thread/start", { cwd: setup.cwd });
    const failed = await codex.turn(thread.id, "FAIL 500");
    expect(failed.turn.status).toBe("failed");
    expect(failed.turn.error.codexErrorInfo).toBe("internalServerError");
    const error = failed.notifications.find((m) => m.method === "error");
    expect(error.params).toMatchObject({ willRetry: false, threadId: thread.id });
    const next = await codex.turn(thread.id, "after the failure");
    expect(next.turn.status).toBe("completed");
    expect(next.text).toBe("echo: after the failure");
    saveTranscript(codex.cli, "error-500");
  });

  test("turn/interrupt ends a running turn as interrupted without stopping the server", async () => {
    const setup = codexSetup(llm, tempDir());
    const codex = await CodexClient.start(setup);
    const { thread } = await codex.rpc.request("thread/start", { cwd: setup.cwd });
    const { from, turnId } = await codex.startTurn(thread.id, "SLOW");
    await codex.cli.waitForMessage<Json>(
      "the first streamed delta",
      (m) => m.method === "item/agentMessage/delta",
      { from },
    );
    expect(await codex.rpc.request("turn/interrupt", { threadId: thread.id, turnId })).toEqual({});
    const interrupted = await codex.completion(turnId, from);
    expect(interrupted.turn.status).toBe("interrupted");
    const slowCall = llm
      .modelCalls()
      .find((call) => JSON.stringify(call.body.input).includes("SLOW"));
    await waitFor("the provider stream to be closed", () => slowCall?.disconnected);
    const next = await codex.turn(thread.id, "after the interrupt");
    expect(next.text).toBe("echo: after the interrupt");
    saveTranscript(codex.cli, "interrupt");
  });

  test("thread/resume continues a thread in a new process", async () => {
    const setup = codexSetup(llm, tempDir());
    const first = await CodexClient.start(setup);
    const { thread } = await first.rpc.request("thread/start", { cwd: setup.cwd });
    await first.turn(thread.id, "remember the code word PELICAN");
    await first.cli.stop();

    const second = await CodexClient.start(setup);
    const resumed = await second.rpc.request("thread/resume", { threadId: thread.id });
    expect(resumed.thread.id).toBe(thread.id);
    const asked = await second.turn(thread.id, "what was the code word?");
    expect(asked.text).toBe("echo: what was the code word?");
    const history = JSON.stringify(llm.modelCalls().at(-1)?.body.input);
    expect(history).toContain("remember the code word PELICAN");
    expect(history).toContain("echo: remember the code word PELICAN");
    saveTranscript(second.cli, "resume");
  });
});
