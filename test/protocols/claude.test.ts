import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PermissionPolicy } from "../../src/agents/status.ts";
import { claude, claudeLaunch, permissionFor } from "../../src/protocols/claude.ts";
import type {
  AgentEvent,
  ProtocolSession,
  SessionAgent,
  SessionHost,
} from "../../src/protocols/session.ts";
import { REPO_ROOT } from "../helpers/daemon.ts";

/**
 * The claude session in process: a host that records what the session writes and emits, fed
 * the lines the pinned Claude Code wrote in interop/transcripts/claude-*.jsonl.
 */

// biome-ignore lint/suspicious/noExplicitAny: Claude Code's JSON, read field by field
type Json = any;

interface Wire {
  in?: Json;
  out?: Json;
}

/** The lines of a captured conversation, in order. */
function transcript(scenario: string): Wire[] {
  const path = join(REPO_ROOT, "interop/transcripts", `claude-${scenario}.jsonl`);
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Wire);
}

/** What Claude Code wrote in a transcript, as the lines a session receives. */
function outLines(scenario: string): string[] {
  return transcript(scenario).flatMap((wire) => (wire.out ? [JSON.stringify(wire.out)] : []));
}

class RecordingHost implements SessionHost {
  readonly written: Json[] = [];
  readonly emitted: AgentEvent[] = [];
  failWrites = false;

  async write(bytes: Uint8Array): Promise<void> {
    if (this.failWrites) throw new Error("the pipe is closed");
    const text = new TextDecoder().decode(bytes);
    expect(text.endsWith("\n")).toBe(true);
    this.written.push(JSON.parse(text));
  }

  emit(events: AgentEvent[]): void {
    this.emitted.push(...events);
  }
}

function agent(overrides: Partial<SessionAgent> = {}): SessionAgent {
  return {
    id: "a1",
    cwd: "/tmp",
    model: "claude-sonnet-4-5",
    envelopes: false,
    permissions: "ask-denied",
    sessionId: null,
    ...overrides,
  };
}

/** A session with a process it saw start (its handshake ran). */
async function opened(overrides: Partial<SessionAgent> = {}) {
  const host = new RecordingHost();
  const session = claude.open(host, agent(overrides));
  await session.open();
  return { host, session };
}

function feed(session: ProtocolSession, lines: string[]): AgentEvent[] {
  return lines.flatMap((line) => session.receive(line));
}

/** The lines of one turn: from the index-th prompt's answer up to and including its result. */
function turnLines(scenario: string, index: number): string[] {
  const lines = outLines(scenario);
  const ends = lines.flatMap((line, i) => (JSON.parse(line).type === "result" ? [i] : []));
  const from = index === 0 ? 0 : (ends[index - 1] as number) + 1;
  return lines.slice(from, (ends[index] as number) + 1);
}

const userMessage = (content: string) => ({
  type: "user",
  message: { role: "user", content },
  parent_tool_use_id: null,
});

const prompt = (turn_id: string, input: string) => ({ turn_id, input, metadata: null });

describe("claude launch", () => {
  const base = { model: "auto", thinking: null, sessionId: null };

  test("stream-json both ways, permission questions over stdio, Claude Code's own model for auto", () => {
    expect(claudeLaunch(base)).toEqual({
      args: [
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-prompt-tool",
        "stdio",
      ],
      env: {},
    });
  });

  test("a model is passed with --model, a stored session with --resume", () => {
    const { args } = claudeLaunch({ ...base, model: "claude-sonnet-4-5", sessionId: "s-1" });
    expect(args).toContain("--model");
    expect(args[args.indexOf("--model") + 1]).toBe("claude-sonnet-4-5");
    expect(args.slice(-2)).toEqual(["--resume", "s-1"]);
  });

  test("thinking: an effort level is --effort, a number is the thinking budget, off is none", () => {
    expect(claudeLaunch({ ...base, thinking: "high" }).args).toContain("--effort");
    expect(claudeLaunch({ ...base, thinking: "xhigh" }).args.join(" ")).toContain("--effort xhigh");
    expect(claudeLaunch({ ...base, thinking: "8000" }).env).toEqual({
      MAX_THINKING_TOKENS: "8000",
    });
    expect(claudeLaunch({ ...base, thinking: "off" }).env).toEqual({ MAX_THINKING_TOKENS: "0" });
  });

  test("a thinking value Claude Code has no meaning for is refused, naming the choices", () => {
    expect(() => claudeLaunch({ ...base, thinking: "deep" })).toThrow(
      /thinking "deep".*low, medium, high, xhigh, max.*number of thinking tokens, or off/,
    );
  });
});

describe("claude session: turns", () => {
  test("two turns: each prompt one user line, started and completed under its turn id", async () => {
    const { host, session } = await opened();
    await session.prompt(prompt("t1", "hello there"));
    expect(host.written).toEqual([userMessage("hello there")]);
    const first = feed(session, turnLines("two-turns", 0));
    const sessionId = "d344736c-d0c1-49d4-b1b8-76ff1bac9f23";
    expect(first).toEqual([
      { type: "turn.started", turn_id: "t1" },
      { type: "session", session_id: sessionId },
      {
        type: "usage",
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: 810,
        model: "claude-sonnet-4-5",
      },
      { type: "turn.completed", turn_id: "t1", response: "echo: hello there" },
    ]);
    await session.prompt(prompt("t2", "second prompt"));
    const second = feed(session, turnLines("two-turns", 1));
    // The session id is said once; the cost is the growth of the process's running total.
    expect(second).toEqual([
      { type: "turn.started", turn_id: "t2" },
      {
        type: "usage",
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: 810,
        model: "claude-sonnet-4-5",
      },
      { type: "turn.completed", turn_id: "t2", response: "echo: second prompt" },
    ]);
  });

  test("a prompt sent while a turn runs waits for that turn's result, then goes out", async () => {
    const { host, session } = await opened();
    await session.prompt(prompt("t1", "hello there"));
    await session.prompt(prompt("t2", "second prompt"));
    expect(host.written).toEqual([userMessage("hello there")]);
    feed(session, turnLines("two-turns", 0));
    await Bun.sleep(0);
    expect(host.written).toEqual([userMessage("hello there"), userMessage("second prompt")]);
    const second = feed(session, turnLines("two-turns", 1));
    expect(second.at(0)).toEqual({ type: "turn.started", turn_id: "t2" });
    expect(second.at(-1)).toMatchObject({ type: "turn.completed", turn_id: "t2" });
  });

  test("a held prompt that cannot be written fails its own turn, and the next one still goes", async () => {
    const { host, session } = await opened();
    await session.prompt(prompt("t1", "hello there"));
    await session.prompt(prompt("t2", "lost"));
    host.failWrites = true;
    feed(session, turnLines("two-turns", 0));
    await Bun.sleep(0);
    expect(host.emitted).toEqual([
      {
        type: "turn.failed",
        turn_id: "t2",
        error: "prompt not delivered to Claude Code: the pipe is closed",
      },
    ]);
    host.failWrites = false;
    await session.prompt(prompt("t3", "second prompt"));
    expect(host.written.at(-1)).toEqual(userMessage("second prompt"));
  });

  test("a prompt whose write fails rejects, and the session takes the next one", async () => {
    const { host, session } = await opened();
    host.failWrites = true;
    await expect(session.prompt(prompt("t1", "hello"))).rejects.toThrow(/pipe is closed/);
    host.failWrites = false;
    await session.prompt(prompt("t2", "again"));
    expect(host.written).toEqual([userMessage("again")]);
  });

  test("an HTTP 500 fails the turn with Claude Code's words although the result says success", async () => {
    const { session } = await opened();
    await session.prompt(prompt("t1", "FAIL 500"));
    const events = feed(session, turnLines("error-500", 0));
    expect(events.filter((event) => event.type === "usage")).toEqual([]);
    expect(events.at(-1)).toEqual({
      type: "turn.failed",
      turn_id: "t1",
      error: expect.stringMatching(/^API Error: 500 fake-llm: HTTP 500 requested/),
    });
    await session.prompt(prompt("t2", "after the failure"));
    expect(feed(session, turnLines("error-500", 1)).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: after the failure",
    });
  });

  test("a result nobody prompted for, failing, is logged as Claude Code's error", async () => {
    const { session } = await opened({ sessionId: "gone" });
    const events = session.receive(
      JSON.stringify({
        type: "result",
        subtype: "error_during_execution",
        is_error: true,
        total_cost_usd: 0,
        usage: { input_tokens: 0, output_tokens: 0 },
        errors: ["No conversation found with session ID: gone"],
      }),
    );
    expect(events).toEqual([
      {
        type: "log",
        level: "error",
        message: "Claude Code: No conversation found with session ID: gone",
      },
    ]);
  });
});

describe("claude session: cancel and goodbye", () => {
  test("cancel interrupts the running turn with the interrupt control request; it ends cancelled", async () => {
    const { host, session } = await opened();
    await session.prompt(prompt("t1", "SLOW"));
    const lines = turnLines("interrupt", 0);
    feed(session, lines.slice(0, 1));
    await session.cancel("t1");
    expect(host.written.at(-1)).toEqual({
      type: "control_request",
      request_id: expect.stringMatching(/^agentd-/),
      request: { subtype: "interrupt" },
    });
    const events = feed(session, lines.slice(1));
    expect(events.at(-1)).toEqual({
      type: "turn.cancelled",
      turn_id: "t1",
      reason: "interrupted by request",
    });
    await session.prompt(prompt("t2", "after the interrupt"));
    expect(feed(session, turnLines("interrupt", 1)).at(-1)).toMatchObject({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: after the interrupt",
    });
  });

  test("a held prompt is cancelled without Claude Code ever seeing it", async () => {
    const { host, session } = await opened();
    await session.prompt(prompt("t1", "hello there"));
    await session.prompt(prompt("t2", "never mind"));
    await session.cancel("t2");
    expect(host.emitted).toEqual([
      {
        type: "turn.cancelled",
        turn_id: "t2",
        reason: "cancelled before Claude Code was given the prompt",
      },
    ]);
    feed(session, turnLines("two-turns", 0));
    await Bun.sleep(0);
    expect(host.written).toEqual([userMessage("hello there")]);
  });

  test("a turn this process never got (held by an earlier daemon) is cancelled at once", async () => {
    const { host, session } = await opened();
    await session.cancel("t-lost");
    expect(host.written).toEqual([]);
    expect(host.emitted).toEqual([
      {
        type: "turn.cancelled",
        turn_id: "t-lost",
        reason: "cancelled; Claude Code never got the prompt",
      },
    ]);
  });

  test("close says end_session, Claude Code's goodbye", async () => {
    const { host, session } = await opened();
    await session.close();
    expect(host.written).toEqual([
      {
        type: "control_request",
        request_id: expect.stringMatching(/^agentd-/),
        request: { subtype: "end_session" },
      },
    ]);
  });
});

describe("claude session: tools and permissions", () => {
  /** Feeds the asked-permission transcript under a policy; returns events and replies. */
  async function asked(scenario: string, policy: PermissionPolicy) {
    const { host, session } = await opened({ permissions: policy });
    await session.prompt(prompt("t1", "RUN: …"));
    const events = feed(session, outLines(scenario));
    await Bun.sleep(0);
    const request = outLines(scenario)
      .map((line) => JSON.parse(line))
      .find((message) => message.type === "control_request");
    return { events, replies: host.written.slice(1), request };
  }

  test("under ask-denied a can_use_tool request is denied, answered at once and recorded", async () => {
    const { events, replies, request } = await asked("tool-asked-denied", "ask-denied");
    expect(replies).toEqual([
      {
        type: "control_response",
        response: {
          subtype: "success",
          request_id: request.request_id,
          response: {
            behavior: "deny",
            message:
              "agentd's permission policy denied Bash: the ask-denied policy denies what needs a person's yes",
          },
        },
      },
    ]);
    expect(events.filter((event) => event.type === "permission")).toEqual([
      {
        type: "permission",
        tool: "Bash",
        decision: "denied",
        reason: "the ask-denied policy denies what needs a person's yes",
        detail: {
          input: { command: "touch asked.txt" },
          tool_use_id: "toolu_fake_7",
          description: "touch asked.txt",
        },
      },
    ]);
  });

  test("under allow-all the request is allowed with the tool's own input", async () => {
    const { events, replies, request } = await asked("tool-asked-allowed", "allow-all");
    expect(replies).toEqual([
      {
        type: "control_response",
        response: {
          subtype: "success",
          request_id: request.request_id,
          response: { behavior: "allow", updatedInput: request.request.input },
        },
      },
    ]);
    expect(events.filter((event) => event.type === "permission")).toEqual([
      expect.objectContaining({ tool: "Bash", decision: "allowed" }),
    ]);
    expect(events.at(-1)).toMatchObject({ type: "turn.completed", response: "tool output: made" });
  });

  test("read-only allows the reading tools and denies the rest; nobody answers AskUserQuestion", () => {
    expect(permissionFor("read-only", "Read").allowed).toBe(true);
    expect(permissionFor("read-only", "Grep").allowed).toBe(true);
    expect(permissionFor("read-only", "Bash")).toEqual({
      allowed: false,
      reason: "the read-only policy allows only Read, Glob, Grep, LS, NotebookRead",
    });
    expect(permissionFor("read-only", "Edit").allowed).toBe(false);
    expect(permissionFor("allow-all", "AskUserQuestion")).toEqual({
      allowed: false,
      reason: "no person attends this agent to answer its questions",
    });
  });

  test("tool calls and results become tool events, with the tool's name on the result", async () => {
    const { session } = await opened({ permissions: "allow-all" });
    await session.prompt(prompt("t1", "RUN: touch allowed.txt && echo ran-it"));
    const events = feed(session, outLines("tool-allowed"));
    expect(events.filter((event) => event.type === "tool")).toEqual([
      {
        type: "tool",
        phase: "call",
        name: "Bash",
        detail: { command: "touch allowed.txt && echo ran-it" },
      },
      {
        type: "tool",
        phase: "result",
        name: "Bash",
        detail: { is_error: false, output: "ran-it" },
      },
    ]);
    expect(events.filter((event) => event.type === "usage")).toEqual([
      expect.objectContaining({ input_tokens: 240, output_tokens: 60, cost_micro_usd: 1620 }),
    ]);
  });

  test("a tool Claude Code denied by itself, without asking, is recorded as denied", async () => {
    const { session } = await opened();
    await session.prompt(prompt("t1", "RUN: touch denied.txt"));
    const events = feed(session, outLines("tool-denied-by-mode"));
    expect(events.filter((event) => event.type === "permission")).toEqual([
      {
        type: "permission",
        tool: "Bash",
        decision: "denied",
        reason: "denied by Claude Code's own permission settings",
        detail: { input: { command: "touch denied.txt" }, tool_use_id: "toolu_fake_5" },
      },
    ]);
  });

  test("any other control request is refused at once, so Claude Code never waits on agentd", async () => {
    const { host, session } = await opened();
    const events = session.receive(
      JSON.stringify({
        type: "control_request",
        request_id: "r-9",
        request: { subtype: "request_user_dialog" },
      }),
    );
    await Bun.sleep(0);
    expect(host.written).toEqual([
      {
        type: "control_response",
        response: {
          subtype: "error",
          request_id: "r-9",
          error: "agentd does not answer request_user_dialog requests",
        },
      },
    ]);
    expect(events).toEqual([
      {
        type: "log",
        level: "warn",
        message: 'Claude Code asked a "request_user_dialog" control request; agentd refused it',
      },
    ]);
  });
});

describe("claude session: resume and hand-over", () => {
  test("a resumed conversation's own session id is not reported again", async () => {
    const lines = outLines("resume");
    const sessionId = JSON.parse(lines[0] as string).session_id;
    const { session } = await opened({ sessionId });
    await session.prompt(prompt("t1", "what was the code word?"));
    const events = feed(session, lines);
    expect(events.filter((event) => event.type === "session")).toEqual([]);
    expect(events.at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t1",
      response: "echo: what was the code word?",
    });
  });

  test("a process handed over by a daemon restart: its first cost is unknown, prompts wait for its turn", async () => {
    const host = new RecordingHost();
    const session = claude.open(host, agent());
    // No open(): the process was already running. A turn an earlier daemon gave it goes on.
    const lines = turnLines("two-turns", 0);
    feed(session, lines.slice(0, 2));
    await session.prompt(prompt("t2", "second prompt"));
    expect(host.written).toEqual([]);
    const rest = feed(session, lines.slice(2));
    expect(rest).toEqual([
      expect.objectContaining({ type: "usage", cost_micro_usd: null }),
      { type: "turn.completed", turn_id: undefined, response: "echo: hello there" },
    ]);
    await Bun.sleep(0);
    expect(host.written).toEqual([userMessage("second prompt")]);
    expect(feed(session, turnLines("two-turns", 1))).toContainEqual(
      expect.objectContaining({ type: "usage", cost_micro_usd: 810 }),
    );
  });
});

describe("claude session: lines it does not understand", () => {
  test("are skipped, never thrown on", async () => {
    const { session } = await opened();
    for (const line of [
      "",
      "not json",
      "[1,2]",
      "{broken",
      JSON.stringify({ type: "stream_event", event: {} }),
      JSON.stringify({ type: "system", subtype: "task_notification" }),
      JSON.stringify({ type: "assistant" }),
      JSON.stringify({ type: "user", message: { content: "text" } }),
      JSON.stringify({ type: "control_response", response: { subtype: "success" } }),
      JSON.stringify({ no: "type" }),
    ]) {
      expect(session.receive(line)).toEqual([]);
    }
  });

  test("a model call Claude Code retries is a warning", async () => {
    const { session } = await opened();
    const retry = {
      type: "system",
      subtype: "api_retry",
      attempt: 1,
      max_retries: 10,
      retry_delay_ms: 500,
      error_status: 529,
      error: "overloaded",
    };
    expect(session.receive(JSON.stringify(retry))).toEqual([
      {
        type: "log",
        level: "warn",
        message: "Claude Code retries a model call (529, overloaded): attempt 1 of 10",
      },
    ]);
  });

  test("a refused control request of agentd's is logged", async () => {
    const { session } = await opened();
    expect(
      session.receive(
        JSON.stringify({
          type: "control_response",
          response: { subtype: "error", request_id: "agentd-1", error: "no such session" },
        }),
      ),
    ).toEqual([
      {
        type: "log",
        level: "warn",
        message: "Claude Code refused agentd's control request agentd-1: no such session",
      },
    ]);
  });
});
