import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultProgram } from "../../src/agents/launch.ts";
import type { PermissionPolicy } from "../../src/agents/status.ts";
import { BadRequestError } from "../../src/errors.ts";
import { acp } from "../../src/protocols/acp/driver.ts";
import type { AgentEvent, ProtocolSession, SessionAgent } from "../../src/protocols/session.ts";
import { REPO_ROOT } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC messages, read field by field
type Json = any;

/**
 * The acp session in process: a host that records what the session writes and emits, fed
 * the agents' own lines. Whole conversations are replayed from the transcripts the real CLIs
 * produced (interop/transcripts/), checking every message the session writes against what the
 * test client wrote there; the rest are single behaviours with lines in the agents' shapes.
 */

interface Harness {
  session: ProtocolSession;
  /** Every message the session wrote, parsed. */
  written: Json[];
  /** Events from receive() and from host.emit, in order. */
  events: AgentEvent[];
  receive(message: Json): AgentEvent[];
  /** Waits until the session has written `count` messages in all; returns the last. */
  wrote(count: number): Promise<Json>;
}

function harness(agent: Partial<SessionAgent> = {}): Harness {
  const written: Json[] = [];
  const events: AgentEvent[] = [];
  const decoder = new TextDecoder();
  const host = {
    write: async (bytes: Uint8Array) => {
      const text = decoder.decode(bytes);
      expect(text.endsWith("\n")).toBe(true);
      written.push(JSON.parse(text));
    },
    emit: (emitted: AgentEvent[]) => void events.push(...emitted),
  };
  const session = acp.open(host, {
    id: "agent-1",
    cwd: "/project",
    model: "auto",
    thinking: null,
    envelopes: false,
    permissions: "ask-denied",
    sessionId: null,
    ...agent,
  });
  return {
    session,
    written,
    events,
    receive(message) {
      const received = session.receive(JSON.stringify(message));
      events.push(...received);
      return received;
    },
    wrote: (count) =>
      waitFor(`message ${count} from the session`, () =>
        written.length >= count ? written[count - 1] : undefined,
      ),
  };
}

type Entry = { in: Json } | { out: Json };

function transcript(name: string): Entry[] {
  const text = readFileSync(join(REPO_ROOT, "interop/transcripts", `${name}.jsonl`), "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

/**
 * Plays a transcript: the agent's lines are received; the client's are prompts and cancels to
 * make (turn ids t1, t2, …) or messages the session must write itself, compared by method, id,
 * params and result (the session may add fields the test client did not send).
 */
async function play(name: string, agent: Partial<SessionAgent> = {}): Promise<Harness> {
  const entries = transcript(name);
  const cwd = entries.flatMap((entry) => ("in" in entry && entry.in.params?.cwd) || [])[0];
  const h = harness({ cwd, ...agent });
  let opened: Promise<void> | null = null;
  let turns = 0;
  let expected = 0;
  for (const entry of entries) {
    if ("out" in entry) {
      h.receive(entry.out);
      continue;
    }
    const message = entry.in;
    if (message.method === "initialize") opened = h.session.open();
    if (message.method === "session/prompt") {
      await opened;
      turns += 1;
      await h.session.prompt({
        turn_id: `t${turns}`,
        input: message.params.prompt[0].text,
        metadata: null,
      });
    }
    if (message.method === "session/cancel") await h.session.cancel(`t${turns}`);
    expected += 1;
    expect(await h.wrote(expected)).toMatchObject(message);
  }
  await opened;
  expect(h.written).toHaveLength(expected);
  return h;
}

const ofType = <T extends AgentEvent["type"]>(events: AgentEvent[], type: T) =>
  events.filter((event): event is AgentEvent & { type: T } => event.type === type);

/** The events about turns, in order, as [type, turn id, response or error or reason]. */
function turnStory(events: AgentEvent[]) {
  return events.flatMap((event) => {
    switch (event.type) {
      case "turn.started":
        return [[event.type, event.turn_id]];
      case "turn.completed":
        return [[event.type, event.turn_id, event.response]];
      case "turn.failed":
        return [[event.type, event.turn_id, event.error]];
      case "turn.cancelled":
        return [[event.type, event.turn_id, event.reason]];
      default:
        return [];
    }
  });
}

describe("acp with opencode's transcripts", () => {
  test("two prompts: handshake, answers joined from chunks, tokens and each turn's share of the session cost", async () => {
    const h = await play("opencode-two-turns");
    expect(h.written[0]).toMatchObject({
      method: "initialize",
      params: { clientInfo: { name: "agentd" } },
    });
    expect(ofType(h.events, "session")).toEqual([
      { type: "session", session_id: expect.stringMatching(/^ses_/) },
    ]);
    expect(turnStory(h.events)).toEqual([
      ["turn.started", "t1"],
      ["turn.completed", "t1", "echo: hello there"],
      ["turn.started", "t2"],
      ["turn.completed", "t2", "echo: second prompt"],
    ]);
    // The session's total goes 0.00081, 0.00162: each turn cost the difference.
    expect(ofType(h.events, "usage")).toEqual([
      usage(120, 30, 810, "fake/fake-model"),
      usage(120, 30, 810, "fake/fake-model"),
    ]);
  });

  test("ask-denied answers a permission request with the reject option and records it", async () => {
    const h = await play("opencode-tool-rejected", { permissions: "ask-denied" });
    expect(ofType(h.events, "permission")).toEqual([
      {
        type: "permission",
        tool: "execute",
        decision: "denied",
        reason: "not covered by ask-denied: there is nobody to ask",
        detail: {
          tool_call_id: expect.stringMatching(/^call_fake_/),
          title: "touch denied.txt",
          input: { command: "touch denied.txt" },
          option: "reject",
        },
      },
    ]);
    expect(ofType(h.events, "tool").map((tool) => [tool.phase, tool.name])).toEqual([
      ["call", "execute"],
      ["result", "execute"],
    ]);
    expect(turnStory(h.events).at(-1)?.[0]).toBe("turn.completed");
  });

  test("allow-all answers with the allow_once option; the tool's output reaches the answer", async () => {
    const h = await play("opencode-tool-allowed-when-asked", { permissions: "allow-all" });
    expect(ofType(h.events, "permission")).toMatchObject([
      { decision: "allowed", reason: "allow-all allows every tool", detail: { option: "once" } },
    ]);
    const [call, result] = ofType(h.events, "tool");
    expect(call).toMatchObject({ phase: "call", name: "execute", detail: { title: "bash" } });
    expect(result).toMatchObject({
      phase: "result",
      detail: { title: "touch asked.txt && echo made", status: "completed" },
    });
    expect(turnStory(h.events).at(-1)).toEqual(["turn.completed", "t1", "tool output: made\n"]);
  });

  test("a failed session/prompt fails its turn with the agent's message; the next turn is answered", async () => {
    const h = await play("opencode-error-500");
    expect(turnStory(h.events)).toEqual([
      ["turn.started", "t1"],
      ["turn.failed", "t1", "Internal error: fake-llm: HTTP 500 requested"],
      ["turn.started", "t2"],
      ["turn.completed", "t2", "echo: after the failure"],
    ]);
  });

  test("cancel sends session/cancel; the cancelled stop reason ends the turn as cancelled", async () => {
    const h = await play("opencode-cancel");
    expect(turnStory(h.events)).toEqual([
      ["turn.started", "t1"],
      ["turn.cancelled", "t1", "cancelled with session/cancel"],
      ["turn.started", "t2"],
      ["turn.completed", "t2", "echo: after the cancel"],
    ]);
  });
});

describe("acp with Gemini CLI's transcripts", () => {
  test("two prompts: tokens from its quota report, no cost, the model named", async () => {
    const h = await play("gemini-two-turns");
    expect(turnStory(h.events)).toEqual([
      ["turn.started", "t1"],
      ["turn.completed", "t1", "echo: hello there"],
      ["turn.started", "t2"],
      ["turn.completed", "t2", "echo: second prompt"],
    ]);
    expect(ofType(h.events, "usage")).toEqual([
      usage(120, 30, null, "gemini-2.5-flash"),
      usage(120, 30, null, "gemini-2.5-flash"),
    ]);
  });

  test("options are chosen by kind, not id: its reject option is called cancel", async () => {
    const h = await play("gemini-tool-rejected");
    expect(ofType(h.events, "permission")).toMatchObject([
      { tool: "execute", decision: "denied", detail: { option: "cancel" } },
    ]);
  });

  test("allow-all picks proceed_once, its allow_once option", async () => {
    const h = await play("gemini-tool-allowed-when-asked", { permissions: "allow-all" });
    expect(ofType(h.events, "permission")).toMatchObject([
      { decision: "allowed", detail: { option: "proceed_once" } },
    ]);
    expect(ofType(h.events, "usage")).toEqual([usage(240, 60, null, "gemini-2.5-flash")]);
  });

  test("a provider error (code = HTTP status) fails the turn", async () => {
    const h = await play("gemini-error-500");
    const [, failed] = turnStory(h.events);
    expect(failed?.[0]).toBe("turn.failed");
    expect(failed?.[2]).toContain("fake-llm: HTTP 500 requested");
  });

  test("cancel ends the turn as cancelled", async () => {
    const h = await play("gemini-cancel");
    expect(turnStory(h.events)[1]).toEqual([
      "turn.cancelled",
      "t1",
      "cancelled with session/cancel",
    ]);
  });

  test("a stored session is loaded; history replayed after the load reply is not an answer", async () => {
    const load = transcript("gemini-load").find(
      (entry) => "in" in entry && entry.in.method === "session/load",
    ) as { in: Json };
    const h = await play("gemini-load", { sessionId: load.in.params.sessionId });
    expect(h.written[1].method).toBe("session/load");
    expect(turnStory(h.events)).toEqual([
      ["turn.started", "t1"],
      ["turn.completed", "t1", "echo: what was the code word?"],
    ]);
    // The session was the stored one: nothing new to store.
    expect(ofType(h.events, "session")).toEqual([]);
  });
});

describe("acp: gemini's late replay (workaround)", () => {
  test("after session/load the handshake ends only once the agent has gone quiet", async () => {
    const h = harness({ sessionId: "s1" });
    let ready = false;
    const open = h.session.open().then(() => {
      ready = true;
    });
    h.receive({ jsonrpc: "2.0", id: (await h.wrote(1)).id, result: GEMINI_INIT });
    h.receive({ jsonrpc: "2.0", id: (await h.wrote(2)).id, result: {} });
    // History still arriving after the reply, a line every 50 ms: not ready meanwhile.
    for (const text of ["remember ", "PELICAN", "echo: remember PELICAN"]) {
      await Bun.sleep(50);
      expect(ready).toBe(false);
      h.receive(
        update("s1", { sessionUpdate: "agent_message_chunk", content: { type: "text", text } }),
      );
    }
    await open;
    const sent = await prompt(h, "t1");
    h.receive(
      update("s1", {
        sessionUpdate: "agent_message_chunk",
        content: { type: "text", text: "new" },
      }),
    );
    const events = h.receive({ jsonrpc: "2.0", id: sent.id, result: { stopReason: "end_turn" } });
    expect(turnStory(events)).toEqual([["turn.completed", "t1", "new"]]);
  });
});

/** opencode's initialize result: loadSession, and resume and close among its session capabilities. */
const OPENCODE_INIT = {
  protocolVersion: 1,
  agentCapabilities: {
    loadSession: true,
    sessionCapabilities: { close: {}, fork: {}, list: {}, resume: {} },
  },
  authMethods: [{ id: "opencode-login", name: "Login with opencode" }],
};
const GEMINI_INIT = { protocolVersion: 1, agentCapabilities: { loadSession: true } };
const BARE_INIT = { protocolVersion: 1, agentCapabilities: {} };

const MODEL_OPTION = {
  id: "model",
  name: "Model",
  category: "model",
  type: "select",
  currentValue: "fake/fake-model",
  options: [
    { value: "fake/fake-model", name: "Fake" },
    { value: "fake/other-model", name: "Other" },
  ],
};

/** Opens a session through a handshake whose replies the test gives, one per request. */
async function opened(h: Harness, replies: Json[]): Promise<void> {
  const open = h.session.open();
  open.catch(() => {});
  for (const [index, reply] of replies.entries()) {
    const request = await h.wrote(index + 1);
    h.receive({ jsonrpc: "2.0", id: request.id, ...reply });
  }
  await open;
}

function update(sessionId: string, body: Json) {
  return { jsonrpc: "2.0", method: "session/update", params: { sessionId, update: body } };
}

function permissionRequest(id: number, toolCall: Json, kinds = ["allow_once", "reject_once"]) {
  return {
    jsonrpc: "2.0",
    id,
    method: "session/request_permission",
    params: {
      sessionId: "s1",
      toolCall,
      options: kinds.map((kind) => ({ optionId: `opt-${kind}`, kind, name: kind })),
    },
  };
}

function usage(input: number, output: number, cost: number | null, model?: string) {
  return {
    type: "usage" as const,
    input_tokens: input,
    output_tokens: output,
    cost_micro_usd: cost,
    model,
  };
}

async function newSession(agent: Partial<SessionAgent> = {}, init: Json = BARE_INIT) {
  const h = harness(agent);
  await opened(h, [{ result: init }, { result: { sessionId: "s1" } }]);
  return h;
}

async function prompt(h: Harness, turnId: string, input = "hello") {
  await h.session.prompt({ turn_id: turnId, input, metadata: null });
  return h.written.at(-1);
}

describe("acp sessions: setup", () => {
  test("a stored session is resumed with session/resume when the agent offers it (no replay)", async () => {
    const h = harness({ sessionId: "ses_1" });
    await opened(h, [{ result: OPENCODE_INIT }, { result: { configOptions: [MODEL_OPTION] } }]);
    expect(h.written[1]).toEqual({
      jsonrpc: "2.0",
      id: 2,
      method: "session/resume",
      params: { sessionId: "ses_1", cwd: "/project", mcpServers: [] },
    });
    expect(h.events).toEqual([]);
  });

  test("after a resume the first turn's cost is unknown (the total's start is not known), the next one's is not", async () => {
    const h = harness({ sessionId: "ses_1" });
    await opened(h, [{ result: OPENCODE_INIT }, { result: {} }]);
    const first = await prompt(h, "t1");
    h.receive(
      update("ses_1", { sessionUpdate: "usage_update", cost: { amount: 0.5, currency: "USD" } }),
    );
    h.receive({
      jsonrpc: "2.0",
      id: first.id,
      result: { stopReason: "end_turn", usage: tokens() },
    });
    const second = await prompt(h, "t2");
    h.receive(
      update("ses_1", { sessionUpdate: "usage_update", cost: { amount: 0.75, currency: "USD" } }),
    );
    h.receive({
      jsonrpc: "2.0",
      id: second.id,
      result: { stopReason: "end_turn", usage: tokens() },
    });
    expect(ofType(h.events, "usage").map((event) => event.cost_micro_usd)).toEqual([null, 250_000]);
  });

  test("a session that cannot be loaded is replaced by a new one, with a warning", async () => {
    const h = harness({ sessionId: "gone" });
    await opened(h, [
      { result: GEMINI_INIT },
      {
        error: {
          code: -32603,
          message: "Internal error",
          data: { details: "No previous sessions found for this project." },
        },
      },
      { result: { sessionId: "fresh" } },
    ]);
    expect(h.written.map((message) => message.method)).toEqual([
      "initialize",
      "session/load",
      "session/new",
    ]);
    expect(h.events).toEqual([
      {
        type: "log",
        level: "warn",
        message:
          "session/load failed: Internal error (code -32603); a new session starts instead of gone",
      },
      { type: "session", session_id: "fresh" },
    ]);
  });

  test("an agent that can neither load nor resume gets a new session, with a warning", async () => {
    const h = harness({ sessionId: "old" });
    await opened(h, [{ result: BARE_INIT }, { result: { sessionId: "new" } }]);
    expect(h.written[1].method).toBe("session/new");
    expect(ofType(h.events, "log")[0]?.message).toBe(
      "the agent cannot resume session old: a new session starts",
    );
  });

  test("another protocol version fails the handshake, saying which", async () => {
    const h = harness();
    const open = h.session.open();
    h.receive({ jsonrpc: "2.0", id: (await h.wrote(1)).id, result: { protocolVersion: 2 } });
    expect(open).rejects.toThrow("the agent speaks ACP version 2; agentd speaks version 1");
  });

  test("an agent that wants a login first fails the handshake, saying how to log in", async () => {
    const h = harness();
    const open = opened(h, [
      { result: OPENCODE_INIT },
      { error: { code: -32000, message: "Authentication required" } },
    ]);
    expect(open).rejects.toThrow(
      "the agent needs to be logged in first (it offers: Login with opencode): log in with the agent's own command, or give its API key in the agent's env",
    );
  });

  test("a model is chosen with session/set_config_option on the model option", async () => {
    const h = harness({ model: "fake/other-model" });
    await opened(h, [
      { result: BARE_INIT },
      { result: { sessionId: "s1", configOptions: [MODEL_OPTION] } },
      { result: { configOptions: [{ ...MODEL_OPTION, currentValue: "fake/other-model" }] } },
    ]);
    expect(h.written[2]).toMatchObject({
      method: "session/set_config_option",
      params: { sessionId: "s1", configId: "model", value: "fake/other-model" },
    });
    const sent = await prompt(h, "t1");
    h.receive({ jsonrpc: "2.0", id: sent.id, result: { stopReason: "end_turn", usage: tokens() } });
    expect(ofType(h.events, "usage")[0]?.model).toBe("fake/other-model");
  });

  test("the model in use already is not set again", async () => {
    const h = harness({ model: "fake/fake-model" });
    await opened(h, [
      { result: BARE_INIT },
      { result: { sessionId: "s1", configOptions: [MODEL_OPTION] } },
    ]);
    expect(h.written).toHaveLength(2);
  });

  test("without a model option, the models state is used through session/set_model", async () => {
    const h = harness({ model: "gemini-2.5-pro" });
    await opened(h, [
      { result: GEMINI_INIT },
      {
        result: {
          sessionId: "s1",
          models: { currentModelId: "gemini-2.5-flash", availableModels: [] },
        },
      },
      { result: {} },
    ]);
    expect(h.written[2]).toMatchObject({
      method: "session/set_model",
      params: { sessionId: "s1", modelId: "gemini-2.5-pro" },
    });
  });

  test("a model the agent refuses fails the handshake, listing what it offers", async () => {
    const h = harness({ model: "nope" });
    const open = opened(h, [
      { result: BARE_INIT },
      { result: { sessionId: "s1", configOptions: [MODEL_OPTION] } },
      { error: { code: -32602, message: "Invalid params" } },
    ]);
    expect(open).rejects.toThrow(
      'the agent refused model "nope": Invalid params; it offers fake/fake-model, fake/other-model',
    );
  });

  test("a model or thinking level the agent has no setting for fails the handshake, saying what to do", async () => {
    const model = harness({ model: "m" });
    expect(opened(model, [{ result: BARE_INIT }, { result: { sessionId: "s1" } }])).rejects.toThrow(
      'model "m" was asked for, but the agent offers no model setting over ACP: leave model unset and give the agent\'s own command-line flag in extra_args',
    );
    const thinking = harness({ thinking: "high" });
    expect(
      opened(thinking, [{ result: BARE_INIT }, { result: { sessionId: "s1" } }]),
    ).rejects.toThrow('thinking level "high" was asked for, but the agent offers no thought_level');
  });

  test("a thinking level is set on the thought_level option", async () => {
    const h = harness({ thinking: "high" });
    const option = {
      id: "effort",
      name: "Effort",
      category: "thought_level",
      type: "select",
      currentValue: "low",
      options: [{ group: "g", name: "Levels", options: [{ value: "low" }, { value: "high" }] }],
    };
    await opened(h, [
      { result: BARE_INIT },
      { result: { sessionId: "s1", configOptions: [option] } },
      { result: {} },
    ]);
    expect(h.written[2]).toMatchObject({
      method: "session/set_config_option",
      params: { configId: "effort", value: "high" },
    });
  });
});

describe("acp sessions: turns", () => {
  test("prompts wait their turn: the next session/prompt goes out when the last one is answered", async () => {
    const h = await newSession();
    const first = await prompt(h, "t1", "one");
    await h.session.prompt({ turn_id: "t2", input: "two", metadata: null });
    expect(h.written).toHaveLength(3);
    const events = h.receive({ jsonrpc: "2.0", id: first.id, result: { stopReason: "end_turn" } });
    expect(turnStory(events)).toEqual([
      ["turn.completed", "t1", null],
      ["turn.started", "t2"],
    ]);
    expect((await h.wrote(4)).params.prompt).toEqual([{ type: "text", text: "two" }]);
  });

  test("a queued prompt is cancelled without reaching the agent", async () => {
    const h = await newSession();
    await prompt(h, "t1");
    await h.session.prompt({ turn_id: "t2", input: "two", metadata: null });
    await h.session.cancel("t2");
    expect(h.events.at(-1)).toEqual({
      type: "turn.cancelled",
      turn_id: "t2",
      reason: "cancelled before the agent was given the prompt",
    });
    expect(h.written).toHaveLength(3);
  });

  test("a permission request after session/cancel is answered cancelled, as the spec requires", async () => {
    const h = await newSession({ permissions: "allow-all" });
    await prompt(h, "t1");
    await h.session.cancel("t1");
    expect(h.written.at(-1)).toEqual({
      jsonrpc: "2.0",
      method: "session/cancel",
      params: { sessionId: "s1" },
    });
    const events = h.receive(permissionRequest(7, { toolCallId: "c1", kind: "execute" }));
    expect(await h.wrote(5)).toEqual({
      jsonrpc: "2.0",
      id: 7,
      result: { outcome: { outcome: "cancelled" } },
    });
    expect(events).toMatchObject([{ decision: "denied", reason: "the turn was cancelled" }]);
  });

  test("messages of one turn are set apart: a new messageId, or text after a tool", async () => {
    const h = await newSession();
    const sent = await prompt(h, "t1");
    const chunk = (text: string, messageId?: string) =>
      update("s1", {
        sessionUpdate: "agent_message_chunk",
        messageId,
        content: { type: "text", text },
      });
    h.receive(chunk("Let me ", "m1"));
    h.receive(chunk("look.", "m1"));
    h.receive(
      update("s1", {
        sessionUpdate: "tool_call",
        toolCallId: "c1",
        title: "ls",
        kind: "read",
        status: "completed",
      }),
    );
    h.receive(chunk("Found it."));
    h.receive(chunk(" Also:", "m3"));
    h.receive(chunk(" this.", "m4"));
    const events = h.receive({ jsonrpc: "2.0", id: sent.id, result: { stopReason: "end_turn" } });
    expect(turnStory(events)).toEqual([
      ["turn.completed", "t1", "Let me look.\n\nFound it. Also:\n\n this."],
    ]);
  });

  test("updates for another session, and text outside any turn, are not an answer", async () => {
    const h = await newSession();
    h.receive(
      update("s1", {
        sessionUpdate: "agent_message_chunk",
        content: { type: "text", text: "stray" },
      }),
    );
    const sent = await prompt(h, "t1");
    h.receive(
      update("s2", {
        sessionUpdate: "agent_message_chunk",
        content: { type: "text", text: "other" },
      }),
    );
    const events = h.receive({ jsonrpc: "2.0", id: sent.id, result: { stopReason: "end_turn" } });
    expect(turnStory(events)).toEqual([["turn.completed", "t1", null]]);
  });

  test("stop reasons: refusal fails the turn, the limits complete it with the reason kept", async () => {
    const h = await newSession();
    const refused = await prompt(h, "t1");
    const failed = h.receive({ jsonrpc: "2.0", id: refused.id, result: { stopReason: "refusal" } });
    expect(failed).toEqual([
      { type: "turn.failed", turn_id: "t1", error: "the agent refused to continue" },
    ]);
    const limited = await prompt(h, "t2");
    const completed = h.receive({
      jsonrpc: "2.0",
      id: limited.id,
      result: { stopReason: "max_tokens" },
    });
    expect(completed).toEqual([
      {
        type: "turn.completed",
        turn_id: "t2",
        response: null,
        metadata: { stop_reason: "max_tokens" },
      },
    ]);
  });

  test("a request-cancelled error (-32800) ends the turn as cancelled", async () => {
    const h = await newSession();
    const sent = await prompt(h, "t1");
    const events = h.receive({
      jsonrpc: "2.0",
      id: sent.id,
      error: { code: -32800, message: "Request cancelled" },
    });
    expect(turnStory(events)).toEqual([["turn.cancelled", "t1", "cancelled with session/cancel"]]);
  });

  test("a cost in another currency is not counted", async () => {
    const h = await newSession();
    const sent = await prompt(h, "t1");
    h.receive(
      update("s1", {
        sessionUpdate: "usage_update",
        used: 1,
        size: 2,
        cost: { amount: 3, currency: "EUR" },
      }),
    );
    const events = h.receive({ jsonrpc: "2.0", id: sent.id, result: { stopReason: "end_turn" } });
    expect(ofType(events, "usage")).toEqual([]);
  });
});

describe("acp sessions: permissions by policy", () => {
  async function asked(policy: PermissionPolicy, toolCall: Json, kinds?: string[]) {
    const h = await newSession({ permissions: policy });
    await prompt(h, "t1");
    const events = h.receive(permissionRequest(0, toolCall, kinds));
    return { events, answer: (await h.wrote(4)).result.outcome, h };
  }

  test("read-only allows tools that read and refuses the rest", async () => {
    for (const kind of ["read", "search", "think"]) {
      const { answer, events } = await asked("read-only", { toolCallId: "c", kind });
      expect(answer).toEqual({ outcome: "selected", optionId: "opt-allow_once" });
      expect(events).toMatchObject([{ decision: "allowed", tool: kind }]);
    }
    for (const kind of ["edit", "delete", "move", "execute", "fetch", "other"]) {
      const { answer, events } = await asked("read-only", { toolCallId: "c", kind });
      expect(answer).toEqual({ outcome: "selected", optionId: "opt-reject_once" });
      expect(events).toMatchObject([
        {
          decision: "denied",
          reason: `read-only allows only tools that read (read, search, think), not ${kind}`,
        },
      ]);
    }
  });

  test("a request without a kind takes the kind its tool call was reported with", async () => {
    const h = await newSession({ permissions: "read-only" });
    await prompt(h, "t1");
    h.receive(
      update("s1", { sessionUpdate: "tool_call", toolCallId: "c9", title: "cat a", kind: "read" }),
    );
    const events = h.receive(permissionRequest(3, { toolCallId: "c9" }));
    expect(events).toMatchObject([{ tool: "read", decision: "allowed" }]);
  });

  test("refusing with no reject option offered answers cancelled; allowing with no allow option refuses", async () => {
    const refused = await asked("ask-denied", { toolCallId: "c", kind: "edit" }, ["allow_once"]);
    expect(refused.answer).toEqual({ outcome: "cancelled" });
    const unallowable = await asked("allow-all", { toolCallId: "c", kind: "edit" }, [
      "reject_always",
    ]);
    expect(unallowable.answer).toEqual({ outcome: "selected", optionId: "opt-reject_always" });
    expect(unallowable.events).toMatchObject([
      {
        decision: "denied",
        reason: "allow-all allows every tool, but the agent offered no option to allow it",
      },
    ]);
  });

  test("allow_once is preferred to allow_always: a remembered yes would outlive the policy", async () => {
    const { answer } = await asked("allow-all", { toolCallId: "c" }, [
      "allow_always",
      "allow_once",
      "reject_once",
    ]);
    expect(answer).toEqual({ outcome: "selected", optionId: "opt-allow_once" });
  });
});

describe("acp sessions: robustness", () => {
  test("lines that are not JSON-RPC, or not understood, mean nothing and never throw", async () => {
    const h = await newSession();
    for (const line of [
      "",
      "not json",
      "[1,2]",
      "null",
      '{"jsonrpc":"2.0"}',
      '{"id":99,"result":{}}',
    ]) {
      expect(h.session.receive(line)).toEqual([]);
    }
    expect(h.receive(update("s1", null))).toEqual([]);
    expect(h.receive({ jsonrpc: "2.0", method: "session/update", params: null })).toEqual([]);
    expect(h.receive(update("s1", { sessionUpdate: "tool_call", toolCallId: 5 }))).toEqual([]);
  });

  test("requests agentd does not offer (fs, terminal) are answered method-not-found and logged", async () => {
    const h = await newSession();
    const events = h.receive({
      jsonrpc: "2.0",
      id: "r1",
      method: "fs/read_text_file",
      params: { sessionId: "s1", path: "/etc/passwd" },
    });
    expect(await h.wrote(3)).toEqual({
      jsonrpc: "2.0",
      id: "r1",
      error: { code: -32601, message: "agentd does not offer fs/read_text_file" },
    });
    expect(events).toEqual([
      {
        type: "log",
        level: "warn",
        message: "the agent asked for fs/read_text_file, which agentd does not offer",
      },
    ]);
  });

  test("a session started without a handshake (its process outlived a daemon) takes up the stored session", async () => {
    const h = harness({ sessionId: "kept" });
    const sent = await prompt(h, "t1");
    expect(sent.params.sessionId).toBe("kept");
    h.receive(
      update("kept", {
        sessionUpdate: "agent_message_chunk",
        content: { type: "text", text: "hi" },
      }),
    );
    const events = h.receive({ jsonrpc: "2.0", id: sent.id, result: { stopReason: "end_turn" } });
    expect(turnStory(events)).toEqual([["turn.completed", "t1", "hi"]]);
  });

  test("the goodbye is session/close where the agent offers it, and nothing where it does not", async () => {
    const h = harness();
    await opened(h, [{ result: OPENCODE_INIT }, { result: { sessionId: "s1" } }]);
    const closed = h.session.close();
    const request = await h.wrote(3);
    expect(request).toMatchObject({ method: "session/close", params: { sessionId: "s1" } });
    h.receive({ jsonrpc: "2.0", id: request.id, result: {} });
    await closed;
    const bare = await newSession();
    await bare.session.close();
    expect(bare.written).toHaveLength(2);
  });
});

describe("the acp driver", () => {
  test("has no default program: an agent without a command is a 400 saying what to give", () => {
    expect(() => defaultProgram(acp, "agent")).toThrow(BadRequestError);
    expect(() => defaultProgram(acp, "agent")).toThrow(
      'protocol "acp" has no default program: give command (the ACP agent\'s program and flags, e.g. ["opencode","acp"])',
    );
  });

  test("needs a command, and adds no arguments of its own", () => {
    expect(acp.command).toEqual({ required: expect.stringContaining("opencode") });
    const launch = (permissions: PermissionPolicy) =>
      acp.launch({
        provider: "auto",
        model: "auto",
        thinking: null,
        permissions,
        sessionId: null,
        runId: null,
      });
    expect(launch("allow-all")).toEqual({ args: [], env: {} });
    // opencode asks nothing by default; made to ask, its requests meet the policy.
    for (const policy of ["ask-denied", "read-only"] as const) {
      expect(launch(policy)).toEqual({ args: [], env: { OPENCODE_PERMISSION: '{"*":"ask"}' } });
    }
  });
});

function tokens() {
  return { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
}
