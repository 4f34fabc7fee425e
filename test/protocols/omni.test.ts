import { describe, expect, test } from "bun:test";
import { centsToMicroUsd, encodePrompt, omni, parseOmniLine } from "../../src/protocols/omni.ts";
import type { AgentEvent } from "../../src/protocols/session.ts";

const line = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
const parse = (value: unknown) => parseOmniLine(line(value));

describe("omni lines: machine events", () => {
  test("agent_start starts a turn, with the echoed turn id", () => {
    expect(
      parse({
        type: "custom",
        custom_type: "agent_start",
        data: { turn_id: "t1" },
        timestamp: "2026-01-01T00:00:00Z",
      }),
    ).toEqual([{ type: "turn.started", turn_id: "t1" }]);
  });

  test("agent_complete completes a turn with response, message or content", () => {
    for (const key of ["response", "message", "content"]) {
      expect(
        parse({
          type: "custom",
          custom_type: "agent_complete",
          data: { [key]: "done", metadata: { k: 1 } },
        }),
      ).toEqual([
        { type: "turn.completed", turn_id: undefined, response: "done", metadata: { k: 1 } },
      ]);
    }
  });

  test("agent_complete without any text completes with a null response", () => {
    expect(parse({ type: "custom", custom_type: "agent_complete", data: {} })).toEqual([
      { type: "turn.completed", turn_id: undefined, response: null, metadata: undefined },
    ]);
  });

  test("agent_error fails the turn with message or error", () => {
    expect(
      parse({
        type: "custom",
        custom_type: "agent_error",
        data: { turn_id: "t2", message: "boom" },
      }),
    ).toEqual([{ type: "turn.failed", turn_id: "t2", error: "boom" }]);
    expect(parse({ type: "custom", custom_type: "agent_error", data: { error: "bad" } })).toEqual([
      { type: "turn.failed", turn_id: undefined, error: "bad" },
    ]);
  });

  test("context_overflow becomes a warning", () => {
    expect(
      parse({ type: "custom", custom_type: "context_overflow", data: { message: "128k tokens" } }),
    ).toEqual([{ type: "log", level: "warn", message: "context overflow: 128k tokens" }]);
  });
});

describe("omni lines: trace events", () => {
  test("infer_start marks an inference", () => {
    expect(
      parse({
        type: "infer_start",
        model: "claude",
        prompt_preview: "hi",
        timestamp: "2026-01-01T00:00:00Z",
        iteration: 0,
      }),
    ).toEqual([{ type: "inference", phase: "start", model: "claude" }]);
  });

  test("infer_end reports tokens and cost in exact micro-USD", () => {
    expect(
      parse({
        type: "infer_end",
        response_preview: "ok",
        tokens: 42,
        cost_cents: 1.5,
        duration_ms: 5,
        iteration: 0,
      }),
    ).toEqual([
      { type: "inference", phase: "end", duration_ms: 5 },
      { type: "usage", input_tokens: 0, output_tokens: 42, cost_micro_usd: 15000 },
    ]);
  });

  test("infer_end without a cost reports unknown cost, not zero", () => {
    expect(parse({ type: "infer_end", tokens: 7 })[1]).toEqual({
      type: "usage",
      input_tokens: 0,
      output_tokens: 7,
      cost_micro_usd: null,
    });
  });

  test("tool_call reports the tool", () => {
    expect(parse({ type: "tool_call", tool: "bash", args: { cmd: "ls" } })).toEqual([
      { type: "tool", phase: "call", name: "bash", detail: { cmd: "ls" } },
    ]);
  });

  test("tagged InferCall / InferResult / InferError", () => {
    expect(parse({ event: "InferCall", model: "m" })).toEqual([
      { type: "inference", phase: "start", model: "m" },
    ]);
    expect(
      parse({
        event: "InferResult",
        input_tokens: 10,
        output_tokens: 20,
        cost_micro_usd: 1234,
        duration_ms: 3,
      }),
    ).toEqual([
      { type: "inference", phase: "end", duration_ms: 3 },
      {
        type: "usage",
        input_tokens: 10,
        output_tokens: 20,
        cost_micro_usd: 1234,
        model: undefined,
      },
    ]);
    expect(parse({ event: "InferError", error: "rate limited" })).toEqual([
      { type: "log", level: "error", message: "inference failed: rate limited" },
    ]);
  });

  test("tagged ToolCall / ToolResult / EvalCall / EvalResult", () => {
    expect(parse({ event: "ToolCall", tool: "edit", args: { path: "a" } })).toEqual([
      { type: "tool", phase: "call", name: "edit", detail: { path: "a" } },
    ]);
    expect(parse({ event: "ToolResult", tool: "edit", result: "ok" })).toEqual([
      { type: "tool", phase: "result", name: "edit", detail: "ok" },
    ]);
    expect(parse({ event: "EvalCall", code: "1+1" })).toEqual([
      { type: "tool", phase: "call", name: "eval", detail: "1+1" },
    ]);
    expect(parse({ event: "EvalResult", result: "2" })).toEqual([
      { type: "tool", phase: "result", name: "eval", detail: "2" },
    ]);
  });

  test("tagged AgentDone completes the turn", () => {
    expect(parse({ event: "AgentDone", turn_id: "t9", response: "all done" })).toEqual([
      { type: "turn.completed", turn_id: "t9", response: "all done" },
    ]);
  });

  test('events wrapped as {"event":{…}} are unwrapped', () => {
    expect(parse({ event: { type: "custom", custom_type: "agent_start", data: {} } })).toEqual([
      { type: "turn.started", turn_id: undefined },
    ]);
    expect(
      parse({
        event: { event: "InferResult", input_tokens: 1, output_tokens: 2, cost_micro_usd: 3 },
      })[1],
    ).toMatchObject({
      type: "usage",
      cost_micro_usd: 3,
    });
    expect(parse({ event: { type: "infer_end", tokens: 1, cost_cents: 0.01 } })[1]).toMatchObject({
      cost_micro_usd: 100,
    });
  });
});

describe("omni lines it does not understand", () => {
  test("non-JSON, broken JSON, arrays and unknown events are skipped, never thrown", () => {
    for (const text of ["plain text", '{"broken": ', "[1,2]", "", "   ", "null", "42"]) {
      expect(parse(text)).toEqual([]);
    }
    expect(parse({ type: "something_new" })).toEqual([]);
    expect(parse({ event: "NotAnEvent" })).toEqual([]);
    expect(parse({ type: "custom", custom_type: "unheard_of", data: {} })).toEqual([]);
  });

  test("a line with U+2028 inside a JSON string is one event", () => {
    const text = JSON.stringify({
      type: "custom",
      custom_type: "agent_complete",
      data: { response: "a\u2028b\u2029c" },
    });
    expect(parse(text)).toEqual([
      {
        type: "turn.completed",
        turn_id: undefined,
        response: "a\u2028b\u2029c",
        metadata: undefined,
      },
    ]);
  });
});

describe("omni prompts", () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  test("a raw prompt is its UTF-8 bytes and one NUL", () => {
    const bytes = encodePrompt({ turn_id: "t", input: "héllo", metadata: null }, false);
    expect(Array.from(bytes)).toEqual([...new TextEncoder().encode("héllo"), 0]);
  });

  test("an envelope carries v, turn_id, input and metadata, then one NUL", () => {
    const bytes = encodePrompt({ turn_id: "t-1", input: "hi", metadata: { a: 1 } }, true);
    expect(bytes.at(-1)).toBe(0);
    expect(bytes.indexOf(0)).toBe(bytes.length - 1);
    expect(JSON.parse(decode(bytes.subarray(0, -1)))).toEqual({
      v: 1,
      turn_id: "t-1",
      input: "hi",
      metadata: { a: 1 },
    });
  });

  test("cents convert to micro-USD without float noise", () => {
    expect(centsToMicroUsd(0.0123)).toBe(123);
    expect(centsToMicroUsd(1.5)).toBe(15000);
    expect(centsToMicroUsd(0.1 + 0.2)).toBe(3000);
  });
});

/** An omni session whose writes are kept, as the agent would read them. */
function session(envelopes = true) {
  const written: Uint8Array[] = [];
  const host = { write: async (bytes: Uint8Array) => void written.push(bytes), emit: () => {} };
  const opened = omni.open(host, {
    id: "a-1",
    cwd: "/",
    model: "m",
    envelopes,
    permissions: "ask-denied",
    sessionId: null,
  });
  const receive = (...values: unknown[]): AgentEvent[] =>
    values.flatMap((value) => opened.receive(line(value)));
  return { session: opened, written, receive };
}

const complete = (data: Record<string, unknown>) => ({
  type: "custom",
  custom_type: "agent_complete",
  data,
});

const LAUNCH = { provider: "p", model: "m", permissions: "ask-denied", sessionId: null } as const;

describe("omni session", () => {
  test("prompts are written as envelopes, or raw when the agent is on raw prompts", async () => {
    const enveloped = session(true);
    await enveloped.session.prompt({ turn_id: "t-1", input: "hi", metadata: null });
    expect(JSON.parse(new TextDecoder().decode(enveloped.written[0]?.subarray(0, -1)))).toEqual({
      v: 1,
      turn_id: "t-1",
      input: "hi",
      metadata: {},
    });
    const raw = session(false);
    await raw.session.prompt({ turn_id: "t-1", input: "hi", metadata: null });
    expect(new TextDecoder().decode(raw.written[0])).toBe("hi\0");
  });

  test("without envelopes, turn ids the agent reports are its own and are dropped", () => {
    const { receive } = session(false);
    expect(receive(complete({ turn_id: "own-1", response: "x" }))).toEqual([
      { type: "turn.completed", turn_id: undefined, response: "x", metadata: undefined },
    ]);
  });

  test("a completion reported in both vocabularies, one right after the other, is reported once", () => {
    const completions = (events: AgentEvent[]) =>
      events.filter((event) => event.type === "turn.completed");
    const machineFirst = session().receive(
      { type: "custom", custom_type: "agent_start", data: { turn_id: "t" } },
      complete({ turn_id: "t", response: "done" }),
      { event: "AgentDone", response: "done" },
    );
    expect(completions(machineFirst)).toHaveLength(1);
    const traceFirst = session().receive(
      { event: "AgentDone", response: "done" },
      complete({ turn_id: "t", response: "done" }),
    );
    expect(completions(traceFirst)).toHaveLength(1);
  });

  test("completions of different turns, or with work between them, are each reported", () => {
    const { receive } = session();
    const events = receive(
      complete({ turn_id: "t1", response: "one" }),
      complete({ turn_id: "t2", response: "two" }),
      { event: "InferCall", model: "m" },
      { event: "AgentDone", response: "three" },
      { event: "ToolCall", tool: "bash" },
      { event: "AgentDone", response: "four" },
    );
    expect(events.filter((event) => event.type === "turn.completed")).toHaveLength(4);
  });

  test('an agent_error "Cancelled by user" is a cancelled turn, not a failed one', () => {
    const { receive } = session();
    expect(
      receive({
        type: "custom",
        custom_type: "agent_error",
        data: { turn_id: "t", message: "Cancelled by user" },
      }),
    ).toEqual([{ type: "turn.cancelled", turn_id: "t", reason: "Cancelled by user" }]);
  });

  test("the command line carries provider, model, --json, a persistent run id, and thinking in the environment", () => {
    expect(omni.launch({ ...LAUNCH, thinking: "high", runId: "helper" })).toEqual({
      args: ["--provider", "p", "--model", "m", "--run-id", "helper", "--json"],
      env: { AGENTD_THINKING: "high" },
    });
    expect(omni.launch({ ...LAUNCH, thinking: null, runId: null })).toEqual({
      args: ["--provider", "p", "--model", "m", "--json"],
      env: {},
    });
  });

  test("omni cannot cancel a turn", () => {
    expect(omni.capabilities.cancel).toBe(false);
  });
});
