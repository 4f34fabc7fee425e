/**
 * The codex session in process: a host that records what the session writes, fed codex's own
 * output from the transcripts captured against the real `codex app-server`
 * (interop/transcripts/codex-*.jsonl).
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PermissionPolicy } from "../../src/agents/status.ts";
import { codex } from "../../src/protocols/codex/index.ts";
import { threadSettings } from "../../src/protocols/codex/settings.ts";
import type {
  AgentEvent,
  ProtocolSession,
  SessionAgent,
  SessionHost,
} from "../../src/protocols/session.ts";
import { REPO_ROOT } from "../helpers/daemon.ts";

// biome-ignore lint/suspicious/noExplicitAny: codex's JSON, read field by field
type Json = any;

const TRANSCRIPTS = join(REPO_ROOT, "interop/transcripts");

/** The messages of a captured conversation, in order, each `in` (to codex) or `out`. */
function transcript(name: string): { in?: Json; out?: Json }[] {
  return readFileSync(join(TRANSCRIPTS, `codex-${name}.jsonl`), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

class RecordingHost implements SessionHost {
  /** Every message the session wrote to codex, parsed. */
  readonly written: Json[] = [];
  readonly emitted: AgentEvent[] = [];

  async write(bytes: Uint8Array): Promise<void> {
    const text = new TextDecoder().decode(bytes);
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.split("\n").filter((part) => part !== "")) {
      this.written.push(JSON.parse(line));
    }
  }

  emit(events: AgentEvent[]): void {
    this.emitted.push(...events);
  }

  /** The requests written with this method, as their params. */
  requests(method: string): Json[] {
    return this.written.filter((m) => m.method === method).map((m) => m.params);
  }
}

function sessionAgent(overrides: Partial<SessionAgent> = {}): SessionAgent {
  return {
    id: "a1",
    provider: "auto",
    cwd: "/work/project",
    model: "auto",
    thinking: null,
    envelopes: false,
    permissions: "ask-denied",
    sessionId: null,
    ...overrides,
  };
}

/** Lets the session's writes and the replies it waits for go through. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A session and codex's side of one transcript: `through(match)` feeds codex's output lines up
 * to and including the first that `match` accepts, and collects every event the session reports.
 */
class Replay {
  readonly host = new RecordingHost();
  readonly session: ProtocolSession;
  readonly events: AgentEvent[] = [];
  private readonly outs: Json[];
  private next = 0;

  constructor(name: string, agent: Partial<SessionAgent> = {}) {
    this.session = codex.open(this.host, sessionAgent(agent));
    this.outs = transcript(name).flatMap((line) => (line.out === undefined ? [] : [line.out]));
  }

  /** The handshake, answered from the transcript. */
  async open(): Promise<void> {
    const opened = this.session.open();
    await settle();
    await this.through((m) => m.id === 2);
    await opened;
    this.collectEmitted();
  }

  async through(match: (message: Json) => boolean): Promise<AgentEvent[]> {
    const from = this.events.length;
    for (;;) {
      const message = this.outs[this.next++];
      if (message === undefined) throw new Error("the transcript ended before the message sought");
      this.events.push(...this.session.receive(JSON.stringify(message)));
      await settle();
      this.collectEmitted();
      if (match(message)) return this.events.slice(from);
    }
  }

  /** Codex's line of this method (and id, for a request), without feeding the lines before it. */
  find(match: (message: Json) => boolean): Json {
    return this.outs.find(match);
  }

  feed(message: Json): AgentEvent[] {
    const events = this.session.receive(JSON.stringify(message));
    this.events.push(...events);
    return events;
  }

  private collectEmitted(): void {
    this.events.push(...this.host.emitted.splice(0));
  }
}

const turnCompleted = (m: Json) => m.method === "turn/completed";
const prompt = (turn_id: string, input: string) => ({ turn_id, input, metadata: null });
const ofType = (events: AgentEvent[], type: AgentEvent["type"]) =>
  events.filter((event) => event.type === type);

describe("the codex driver", () => {
  test("runs `codex app-server`; every setting travels in the thread, none on the command line", () => {
    expect(codex.command).toBe("codex");
    expect(codex.capabilities).toEqual({ envelopes: false, cancel: true, resume: true });
    const launch = codex.launch({
      provider: "openai",
      model: "gpt-5.5",
      thinking: "high",
      permissions: "allow-all",
      sessionId: "thread-1",
      runId: null,
    });
    expect(launch).toEqual({ args: ["app-server"], env: {} });
  });

  test.each([
    ["allow-all", "never", "danger-full-access"],
    ["ask-denied", "on-request", "workspace-write"],
    ["read-only", "on-request", "read-only"],
  ] as const)(
    "permissions %s are codex's approval policy %s and sandbox %s",
    (permissions, approvalPolicy, sandbox) => {
      expect(
        threadSettings(sessionAgent({ permissions: permissions as PermissionPolicy })),
      ).toEqual({
        cwd: "/work/project",
        approvalPolicy,
        sandbox,
      });
    },
  );

  test("model, provider and thinking are the thread's model, modelProvider and reasoning effort; auto leaves them to codex", () => {
    expect(
      threadSettings(sessionAgent({ model: "gpt-5.5", provider: "openai", thinking: "high" })),
    ).toEqual({
      cwd: "/work/project",
      approvalPolicy: "on-request",
      sandbox: "workspace-write",
      model: "gpt-5.5",
      modelProvider: "openai",
      config: { model_reasoning_effort: "high" },
    });
  });
});

describe("a codex session: handshake and turns (codex-two-turns)", () => {
  test("the handshake initializes, opens a thread with the agent's settings and reports its id", async () => {
    const replay = new Replay("two-turns", { permissions: "allow-all", model: "gpt-5.5" });
    await replay.open();
    const [initialize, initialized, start] = replay.host.written;
    expect(initialize).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { clientInfo: { name: "agentd" }, capabilities: null },
    });
    expect(initialized).toEqual({ jsonrpc: "2.0", method: "initialized", params: {} });
    expect(start).toEqual({
      jsonrpc: "2.0",
      id: 2,
      method: "thread/start",
      params: {
        cwd: "/work/project",
        approvalPolicy: "never",
        sandbox: "danger-full-access",
        model: "gpt-5.5",
      },
    });
    const threadId = replay.find((m) => m.id === 2).result.thread.id;
    expect(ofType(replay.events, "session")).toEqual([{ type: "session", session_id: threadId }]);
  });

  test("each prompt is a turn/start on the thread; codex's answer completes agentd's turn, with its tokens and no cost", async () => {
    const replay = new Replay("two-turns");
    await replay.open();
    const threadId = replay.find((m) => m.id === 2).result.thread.id;

    await replay.session.prompt(prompt("t1", "hello there"));
    expect(replay.host.requests("turn/start")).toEqual([
      { threadId, input: [{ type: "text", text: "hello there", text_elements: [] }] },
    ]);
    const first = await replay.through(turnCompleted);
    expect(first).toEqual([
      { type: "turn.started", turn_id: "t1" },
      {
        type: "usage",
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: null,
        model: "gpt-5.5",
      },
      { type: "turn.completed", turn_id: "t1", response: "echo: hello there" },
    ]);

    await replay.session.prompt(prompt("t2", "second prompt"));
    const second = await replay.through(turnCompleted);
    // The thread's totals grow to 240/60: the turn counts the difference.
    expect(ofType(second, "usage")).toEqual([
      expect.objectContaining({ input_tokens: 120, output_tokens: 30 }),
    ]);
    expect(second.at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: second prompt",
    });
  });

  test("a turn codex reroutes to another model reports its usage with that model", async () => {
    const replay = new Replay("two-turns");
    await replay.open();
    await replay.session.prompt(prompt("t1", "hello there"));
    await replay.through((m) => m.method === "turn/started");
    const codexTurnId = replay.find((m) => m.id === 3).result.turn.id;
    const rerouted = replay.feed({
      method: "model/rerouted",
      params: { turnId: codexTurnId, fromModel: "gpt-5.5", toModel: "gpt-5.5-mini", reason: "x" },
    });
    expect(rerouted).toEqual([
      {
        type: "log",
        level: "info",
        message: 'codex: the turn\'s model gpt-5.5 was rerouted to gpt-5.5-mini ("x")',
      },
    ]);
    const turn = await replay.through(turnCompleted);
    expect(ofType(turn, "usage")).toEqual([expect.objectContaining({ model: "gpt-5.5-mini" })]);
  });

  test("a prompt sent while a turn runs waits for that turn's turn/completed", async () => {
    const replay = new Replay("two-turns");
    await replay.open();
    await replay.session.prompt(prompt("t1", "hello there"));
    await replay.session.prompt(prompt("t2", "second prompt"));
    expect(replay.host.requests("turn/start")).toHaveLength(1);
    await replay.through(turnCompleted);
    expect(replay.host.requests("turn/start").map((p) => p.input[0].text)).toEqual([
      "hello there",
      "second prompt",
    ]);
    const second = await replay.through(turnCompleted);
    expect(second.at(-1)).toMatchObject({ type: "turn.completed", turn_id: "t2" });
  });
});

describe("a codex session: failures", () => {
  test("a failed turn (codex-error-500) fails agentd's turn with codex's words and error kind; the next turn works", async () => {
    const replay = new Replay("error-500");
    await replay.open();
    await replay.session.prompt(prompt("t1", "FAIL 500"));
    const failed = await replay.through(turnCompleted);
    expect(failed).toEqual([
      { type: "turn.started", turn_id: "t1" },
      {
        type: "turn.failed",
        turn_id: "t1",
        error:
          "We’re currently experiencing high demand, which may cause temporary errors. (internalServerError)",
      },
    ]);
    await replay.session.prompt(prompt("t2", "after the failure"));
    expect((await replay.through(turnCompleted)).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: after the failure",
    });
  });

  test("a turn/start codex refuses fails its turn, and the next queued prompt starts", async () => {
    const replay = new Replay("two-turns");
    await replay.open();
    await replay.session.prompt(prompt("t1", "first"));
    await replay.session.prompt(prompt("t2", "second"));
    const refused = replay.feed({ id: 3, error: { code: -32600, message: "thread is closed" } });
    expect(refused).toEqual([
      {
        type: "turn.failed",
        turn_id: "t1",
        error: "codex refused the prompt: thread is closed (code -32600)",
      },
    ]);
    await settle();
    expect(replay.host.requests("turn/start").map((p) => p.input[0].text)).toEqual([
      "first",
      "second",
    ]);
  });

  test("a prompt before any thread is open is refused with the reason", async () => {
    const session = codex.open(new RecordingHost(), sessionAgent());
    await expect(session.prompt(prompt("t1", "hi"))).rejects.toThrow(
      "codex has no thread open for this agent",
    );
  });
});

describe("a codex session: cancel (codex-interrupt)", () => {
  test("cancel is turn/interrupt with codex's turn id; the interrupted turn is cancelled", async () => {
    const replay = new Replay("interrupt");
    await replay.open();
    await replay.session.prompt(prompt("t1", "SLOW"));
    await replay.through((m) => m.method === "item/agentMessage/delta");
    await replay.session.cancel("t1");
    const threadId = replay.find((m) => m.id === 2).result.thread.id;
    const codexTurnId = replay.find((m) => m.id === 3).result.turn.id;
    expect(replay.host.requests("turn/interrupt")).toEqual([{ threadId, turnId: codexTurnId }]);
    const ended = await replay.through(turnCompleted);
    expect(ended.at(-1)).toEqual({
      type: "turn.cancelled",
      turn_id: "t1",
      reason: "cancelled on request",
    });
  });

  test("a cancel before turn/start's reply interrupts as soon as codex names the turn", async () => {
    const replay = new Replay("interrupt");
    await replay.open();
    await replay.session.prompt(prompt("t1", "SLOW"));
    await replay.session.cancel("t1");
    expect(replay.host.requests("turn/interrupt")).toEqual([]);
    await replay.through((m) => m.id === 3);
    expect(replay.host.requests("turn/interrupt")).toHaveLength(1);
  });

  test("a prompt still queued behind a running turn is cancelled at once, and never reaches codex", async () => {
    const replay = new Replay("interrupt");
    await replay.open();
    await replay.session.prompt(prompt("t1", "SLOW"));
    await replay.session.prompt(prompt("t2", "queued"));
    await replay.session.cancel("t2");
    expect(replay.host.emitted).toEqual([
      {
        type: "turn.cancelled",
        turn_id: "t2",
        reason: "cancelled before codex was given the prompt",
      },
    ]);
    expect(replay.host.requests("turn/interrupt")).toEqual([]);
    expect(replay.host.requests("turn/start")).toHaveLength(1);
  });

  test("cancelling a turn codex is not running is a conflict", async () => {
    const replay = new Replay("interrupt");
    await replay.open();
    await expect(replay.session.cancel("t9")).rejects.toThrow("turn t9 is not running in codex");
  });
});

describe("a codex session: resume (codex-resume)", () => {
  test("a stored thread is resumed with the agent's settings; its restored totals are not counted again", async () => {
    const threadId = transcript("resume").find((line) => line.in?.method === "thread/resume")?.in
      .params.threadId;
    const replay = new Replay("resume", { sessionId: threadId, thinking: "low" });
    await replay.open();
    expect(replay.host.requests("thread/resume")).toEqual([
      {
        threadId,
        excludeTurns: true,
        cwd: "/work/project",
        approvalPolicy: "on-request",
        sandbox: "workspace-write",
        config: { model_reasoning_effort: "low" },
      },
    ]);
    // The same thread: nothing new to store.
    expect(ofType(replay.events, "session")).toEqual([]);
    await replay.through((m) => m.method === "thread/tokenUsage/updated");
    await replay.session.prompt(prompt("t1", "what was the code word?"));
    const turn = await replay.through(turnCompleted);
    // codex reports 240/60 for the thread after this turn; the turn's share is 120/30.
    expect(ofType(turn, "usage")).toEqual([
      expect.objectContaining({ input_tokens: 120, output_tokens: 30 }),
    ]);
    expect(ofType(replay.events, "usage")).toHaveLength(1);
  });

  test("a thread codex cannot resume is replaced by a new one, with a warning and the new id", async () => {
    const host = new RecordingHost();
    const session = codex.open(host, sessionAgent({ sessionId: "gone" }));
    const opened = session.open();
    await settle();
    session.receive(JSON.stringify({ id: 1, result: {} }));
    await settle();
    session.receive(
      JSON.stringify({ id: 2, error: { code: -32600, message: "no rollout found for gone" } }),
    );
    await settle();
    expect(host.requests("thread/start")).toHaveLength(1);
    session.receive(JSON.stringify({ id: 3, result: { thread: { id: "fresh" }, model: "m" } }));
    await opened;
    expect(host.emitted).toEqual([
      {
        type: "log",
        level: "warn",
        message:
          "codex could not resume thread gone (thread/resume failed: no rollout found for gone (code -32600)); a new thread starts without the earlier conversation",
      },
      { type: "session", session_id: "fresh" },
    ]);
  });

  test("a session attached to a running process (no handshake) uses the stored thread and counts its usage", async () => {
    const replay = new Replay("two-turns", { sessionId: "stored-thread" });
    await replay.session.prompt(prompt("t1", "hello"));
    expect(replay.host.requests("turn/start")[0].threadId).toBe("stored-thread");
    const usage = replay.feed(replay.find((m) => m.method === "thread/tokenUsage/updated"));
    expect(usage).toEqual([expect.objectContaining({ type: "usage", input_tokens: 120 })]);
  });
});

describe("a codex session: tools and approvals", () => {
  test("a command codex runs is a tool call and its result (codex-tool-allowed)", async () => {
    const replay = new Replay("tool-allowed", { permissions: "allow-all" });
    await replay.open();
    await replay.session.prompt(prompt("t1", "RUN: touch allowed.txt && echo ran-it"));
    const turn = await replay.through(turnCompleted);
    const command = "/bin/bash -lc 'touch allowed.txt && echo ran-it'";
    expect(ofType(turn, "tool")).toEqual([
      {
        type: "tool",
        phase: "call",
        name: "commandExecution",
        detail: { command, cwd: expect.stringMatching(/project$/) },
      },
      {
        type: "tool",
        phase: "result",
        name: "commandExecution",
        detail: { status: "completed", exit_code: 0, output: "ran-it\n" },
      },
    ]);
    expect(ofType(turn, "usage")).toHaveLength(2);
  });

  test.each([
    ["ask-denied", "decline", "denied"],
    ["read-only", "decline", "denied"],
    ["allow-all", "accept", "allowed"],
  ] as const)(
    "under %s a command approval is answered %s and recorded as %s (codex-tool-declined)",
    async (permissions, answer, decision) => {
      const replay = new Replay("tool-declined", { permissions });
      await replay.open();
      await replay.session.prompt(prompt("t1", "RUN: touch asked.txt"));
      const asked = await replay.through(
        (m) => m.method === "item/commandExecution/requestApproval",
      );
      await settle();
      expect(replay.host.written.at(-1)).toEqual({
        jsonrpc: "2.0",
        id: 0,
        result: { decision: answer },
      });
      expect(ofType(asked, "permission")).toEqual([
        {
          type: "permission",
          tool: "commandExecution",
          decision,
          reason: expect.stringContaining(permissions),
          detail: {
            command: "/bin/bash -lc 'touch asked.txt'",
            cwd: expect.stringMatching(/project$/),
          },
        },
      ]);
    },
  );

  test("a file-change approval is declined and recorded with the files of its item (codex-file-change-declined)", async () => {
    const replay = new Replay("file-change-declined");
    await replay.open();
    await replay.session.prompt(prompt("t1", "patch"));
    const asked = await replay.through((m) => m.method === "item/fileChange/requestApproval");
    await settle();
    expect(replay.host.written.at(-1)).toEqual({
      jsonrpc: "2.0",
      id: 0,
      result: { decision: "decline" },
    });
    expect(ofType(asked, "permission")).toEqual([
      {
        type: "permission",
        tool: "fileChange",
        decision: "denied",
        reason: expect.stringContaining("ask-denied"),
        detail: { changes: [{ path: expect.stringMatching(/patched\.txt$/), kind: "add" }] },
      },
    ]);
    const turn = await replay.through(turnCompleted);
    expect(turn.at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t1",
      response: "tool output: patch rejected by user",
    });
  });

  test("a request for more sandbox permissions is granted only under allow-all", async () => {
    const request = {
      id: 7,
      method: "item/permissions/requestApproval",
      params: {
        permissions: { network: { enabled: true }, fileSystem: null },
        reason: "needs the network",
      },
    };
    for (const [permissions, granted] of [
      ["ask-denied", {}],
      ["allow-all", { network: { enabled: true } }],
    ] as const) {
      const host = new RecordingHost();
      const session = codex.open(host, sessionAgent({ permissions }));
      const events = session.receive(JSON.stringify(request));
      await settle();
      expect(host.written).toEqual([
        { jsonrpc: "2.0", id: 7, result: { permissions: granted, scope: "turn" } },
      ]);
      expect(events).toEqual([
        expect.objectContaining({
          type: "permission",
          tool: "permissions",
          decision: permissions === "allow-all" ? "allowed" : "denied",
        }),
      ]);
    }
  });

  test("an MCP server's request for input is declined and recorded", async () => {
    const host = new RecordingHost();
    const session = codex.open(host, sessionAgent({ permissions: "allow-all" }));
    const events = session.receive(
      JSON.stringify({
        id: 3,
        method: "mcpServer/elicitation/request",
        params: { serverName: "docs", mode: "form", message: "Your name?" },
      }),
    );
    await settle();
    expect(host.written).toEqual([
      { jsonrpc: "2.0", id: 3, result: { action: "decline", content: null, _meta: null } },
    ]);
    expect(events).toEqual([
      expect.objectContaining({ tool: "docs.elicitation", decision: "denied" }),
    ]);
  });

  test("a request agentd does not answer is refused with a JSON-RPC error, never left waiting", async () => {
    const host = new RecordingHost();
    const session = codex.open(host, sessionAgent());
    const events = session.receive(
      JSON.stringify({ id: 4, method: "item/tool/requestUserInput", params: { questions: [] } }),
    );
    await settle();
    expect(host.written).toEqual([
      {
        jsonrpc: "2.0",
        id: 4,
        error: { code: -32601, message: "agentd does not answer item/tool/requestUserInput" },
      },
    ]);
    expect(events).toEqual([
      {
        type: "log",
        level: "warn",
        message: "codex asked item/tool/requestUserInput, which agentd does not answer: refused",
      },
    ]);
  });
});

describe("a codex session: what it does not use", () => {
  test("lines that are not JSON-RPC, notifications it does not use and stray replies mean nothing", () => {
    const session = codex.open(new RecordingHost(), sessionAgent());
    for (const line of [
      "",
      "not json",
      "[1,2]",
      '{"no":"method"}',
      JSON.stringify({ method: "account/rateLimits/updated", params: {} }),
      JSON.stringify({ method: "thread/status/changed", params: { status: { type: "idle" } } }),
      JSON.stringify({ id: 99, result: {} }),
    ]) {
      expect(session.receive(line)).toEqual([]);
    }
  });

  test("codex's warnings are warnings in agentd's log (codex-two-turns' configWarning)", async () => {
    const replay = new Replay("two-turns");
    const warning = replay.find((m) => m.method === "configWarning");
    expect(replay.feed(warning)).toEqual([
      {
        type: "log",
        level: "warn",
        message: expect.stringContaining("codex: Codex could not find bubblewrap on PATH."),
      },
    ]);
  });

  test("a notification codex sends in a shape agentd does not expect is reported, not thrown", () => {
    const session = codex.open(new RecordingHost(), sessionAgent());
    expect(
      session.receive(JSON.stringify({ method: "item/completed", params: { item: null } })),
    ).toEqual([]);
    expect(session.receive(JSON.stringify({ method: "turn/completed", params: null }))).toEqual([
      { type: "log", level: "warn", message: "codex: a turn/completed that names no turn" },
    ]);
  });
});
