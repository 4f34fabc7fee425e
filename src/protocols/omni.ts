import type {
  AgentEvent,
  Prompt,
  ProtocolDriver,
  ProtocolSession,
  SessionAgent,
  SessionHost,
} from "./session.ts";

/**
 * The `omni` agent (the original daemon's): launched with `--provider P --model M --json`,
 * NUL-framed prompts on stdin (raw text, or v1 envelopes carrying agentd's turn id), JSON lines
 * on stdout in two vocabularies — machine events (`type: "custom"`) and trace events (plain,
 * tagged or wrapped). It cannot cancel a turn, and has no conversation to resume.
 */
export const omni: ProtocolDriver = {
  name: "omni",
  command: null,
  capabilities: { envelopes: true, cancel: false, resume: false },
  launch(agent) {
    const runId = agent.runId === null ? [] : ["--run-id", agent.runId];
    const args = ["--provider", agent.provider, "--model", agent.model, ...runId, "--json"];
    // As in the original daemon, the thinking level reaches the agent in its environment.
    const env: Record<string, string> = agent.thinking ? { AGENTD_THINKING: agent.thinking } : {};
    return { args, env };
  },
  open(host, agent) {
    return new OmniSession(host, agent);
  },
};

/** A person's cancel inside the agent comes back as this error. */
const CANCELLED_BY_USER = "Cancelled by user";

class OmniSession implements ProtocolSession {
  /** The agent's last event, when it was a completion: the next one may only repeat it. */
  private lastCompletion: { turn_id?: string | undefined } | null = null;

  constructor(
    private readonly host: SessionHost,
    private readonly agent: SessionAgent,
  ) {}

  async open(): Promise<void> {}

  prompt(prompt: Prompt): Promise<void> {
    return this.host.write(encodePrompt(prompt, this.agent.envelopes));
  }

  receive(line: string): AgentEvent[] {
    const events = parseOmniLine(line);
    return events.filter((event) => !this.repeats(event)).map((event) => this.inAgentdTerms(event));
  }

  async cancel(): Promise<void> {
    throw new Error("omni agents cannot cancel a turn");
  }

  /** Closing stdin is the goodbye, and the process runtime does that. */
  async close(): Promise<void> {}

  /**
   * omni reports the end of a turn in both its vocabularies (agent_complete and AgentDone),
   * one right after the other: the second is the same completion, unless it names another turn.
   */
  private repeats(event: AgentEvent): boolean {
    const previous = this.lastCompletion;
    this.lastCompletion = event.type === "turn.completed" ? event : null;
    if (event.type !== "turn.completed" || previous === null) return false;
    return (
      event.turn_id === undefined ||
      previous.turn_id === undefined ||
      event.turn_id === previous.turn_id
    );
  }

  private inAgentdTerms(event: AgentEvent): AgentEvent {
    if (event.type === "turn.failed" && event.error === CANCELLED_BY_USER) {
      return { type: "turn.cancelled", turn_id: event.turn_id, reason: CANCELLED_BY_USER };
    }
    // Without envelopes the agent never saw agentd's ids: any id it reports is its own.
    if ("turn_id" in event && !this.agent.envelopes) return { ...event, turn_id: undefined };
    return event;
  }
}

/** The bytes of one prompt: a v1 envelope or the raw input, then one NUL. */
export function encodePrompt(prompt: Prompt, envelope: boolean): Uint8Array {
  const text = envelope ? JSON.stringify(envelopeOf(prompt)) : prompt.input;
  const body = new TextEncoder().encode(text);
  const framed = new Uint8Array(body.length + 1);
  framed.set(body);
  return framed;
}

function envelopeOf(prompt: Prompt) {
  return { v: 1, turn_id: prompt.turn_id, input: prompt.input, metadata: prompt.metadata ?? {} };
}

/** The events one output line means; [] for anything that is not an omni event. */
export function parseOmniLine(line: string): AgentEvent[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return [];
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return [];
  }
  return isObject(value) ? parseObject(value) : [];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseObject(obj: Json): AgentEvent[] {
  if (isObject(obj.event)) return parseObject(obj.event);
  if (typeof obj.event === "string") return parseTagged(obj.event, obj);
  if (obj.type === "custom" && typeof obj.custom_type === "string") {
    return parseCustom(obj.custom_type, isObject(obj.data) ? obj.data : {});
  }
  if (typeof obj.type === "string") return parseTrace(obj.type, obj);
  return [];
}

/** Machine events: `{"type":"custom","custom_type":…,"data":{…}}`. */
function parseCustom(kind: string, data: Json): AgentEvent[] {
  const turn_id = str(data.turn_id);
  switch (kind) {
    case "agent_start":
      return [{ type: "turn.started", turn_id }];
    case "agent_complete":
      return [
        {
          type: "turn.completed",
          turn_id,
          response: str(data.response) ?? str(data.message) ?? str(data.content) ?? null,
          metadata: isObject(data.metadata) ? data.metadata : undefined,
        },
      ];
    case "agent_error":
      return [
        {
          type: "turn.failed",
          turn_id,
          error:
            str(data.message) ?? str(data.error) ?? str(data.content) ?? "agent reported an error",
        },
      ];
    case "context_overflow":
      return [
        {
          type: "log",
          level: "warn",
          message: `context overflow${str(data.message) ? `: ${str(data.message)}` : ""}`,
        },
      ];
    default:
      return [];
  }
}

/** Trace events: `{"type":"infer_start"|"infer_end"|"tool_call",…}`. */
function parseTrace(kind: string, obj: Json): AgentEvent[] {
  switch (kind) {
    case "infer_start":
      return [{ type: "inference", phase: "start", model: str(obj.model) }];
    case "infer_end": {
      const events: AgentEvent[] = [
        { type: "inference", phase: "end", duration_ms: num(obj.duration_ms) },
      ];
      const cents = num(obj.cost_cents);
      const tokens = num(obj.tokens);
      if (cents !== undefined || tokens !== undefined) {
        events.push({
          type: "usage",
          input_tokens: 0,
          // infer_end reports one total; it is counted as output.
          output_tokens: wholeTokens(tokens),
          cost_micro_usd: cents === undefined ? null : centsToMicroUsd(cents),
        });
      }
      return events;
    }
    case "tool_call":
      return [toolEvent("call", obj, obj.args ?? obj.input)];
    default:
      return [];
  }
}

/** Tagged trace events: `{"event":"InferResult",…}`. */
function parseTagged(tag: string, obj: Json): AgentEvent[] {
  switch (tag) {
    case "InferCall":
      return [{ type: "inference", phase: "start", model: str(obj.model) }];
    case "InferResult": {
      const cost = num(obj.cost_micro_usd);
      return [
        { type: "inference", phase: "end", duration_ms: num(obj.duration_ms) },
        {
          type: "usage",
          input_tokens: wholeTokens(num(obj.input_tokens)),
          output_tokens: wholeTokens(num(obj.output_tokens)),
          cost_micro_usd: cost === undefined ? null : Math.round(cost),
          model: str(obj.model),
        },
      ];
    }
    case "InferError":
      return [
        {
          type: "log",
          level: "error",
          message: `inference failed: ${str(obj.error) ?? str(obj.message) ?? "unknown error"}`,
        },
      ];
    case "ToolCall":
      return [toolEvent("call", obj, obj.args ?? obj.input)];
    case "ToolResult":
      return [toolEvent("result", obj, obj.result ?? obj.output)];
    case "EvalCall":
      return [{ type: "tool", phase: "call", name: "eval", detail: obj.code ?? obj.input }];
    case "EvalResult":
      return [{ type: "tool", phase: "result", name: "eval", detail: obj.result ?? obj.output }];
    case "AgentDone":
      return [
        {
          type: "turn.completed",
          turn_id: str(obj.turn_id),
          response: str(obj.response) ?? str(obj.result) ?? str(obj.message) ?? null,
        },
      ];
    default:
      return [];
  }
}

function toolEvent(phase: "call" | "result", obj: Json, detail: unknown): AgentEvent {
  return { type: "tool", phase, name: str(obj.tool) ?? str(obj.name) ?? "unknown", detail };
}

/** 1 cent = 10,000 micro-USD; rounding absorbs float noise such as 0.0123 * 1e4. */
export function centsToMicroUsd(cents: number): number {
  return Math.round(cents * 10_000);
}

function wholeTokens(value: number | undefined): number {
  return value === undefined || value < 0 ? 0 : Math.round(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
