import type { PermissionPolicy } from "../agents/status.ts";
import { BadRequestError, errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import { HeldPrompts } from "./held-prompts.ts";
import type {
  AgentEvent,
  Prompt,
  ProtocolDriver,
  ProtocolLaunch,
  ProtocolSession,
  SessionAgent,
  SessionHost,
} from "./session.ts";

/**
 * Claude Code's headless stream-json mode (`claude -p --input-format stream-json
 * --output-format stream-json --verbose`): one JSON user message per line in; per prompt a
 * `system/init`, `assistant` and `user` (tool result) messages, and a `result` that ends the
 * turn. Permission questions arrive as `can_use_tool` control requests
 * (`--permission-prompt-tool stdio`) and are answered by the agent's policy; a turn is
 * cancelled with the `interrupt` control request, and `end_session` is the goodbye. A new
 * process continues the conversation with `--resume <session_id>`. The message shapes are the
 * agent SDK's (`SDKUserMessage`, `SDKMessage`, `SDKControlRequest`); interop/PROTOCOLS.md shows
 * them as the pinned CLI sends them.
 */
export const claude: ProtocolDriver = {
  name: "claude",
  command: "claude",
  capabilities: { envelopes: false, cancel: true, resume: true },
  launch: claudeLaunch,
  open: (host, agent) => new ClaudeSession(host, agent),
};

const STREAM_JSON = [
  "-p",
  "--input-format",
  "stream-json",
  "--output-format",
  "stream-json",
  "--verbose",
];

/** Claude Code's own effort levels (`--effort`). */
export const CLAUDE_EFFORTS = ["low", "medium", "high", "xhigh", "max"] as const;

/**
 * The command line: stream-json both ways; the model unless agentd's default "auto" (Claude
 * Code's own default then); the thinking setting; permission questions asked over stdio, so
 * the session answers them by policy (rather than `bypassPermissions`, which Claude Code
 * refuses as root); the conversation to resume.
 */
export function claudeLaunch(agent: {
  model: string;
  thinking: string | null;
  sessionId: string | null;
}): ProtocolLaunch {
  const thinking = thinkingSettings(agent.thinking);
  const model = agent.model === "" || agent.model === "auto" ? [] : ["--model", agent.model];
  const resume = agent.sessionId === null ? [] : ["--resume", agent.sessionId];
  return {
    args: [
      ...STREAM_JSON,
      ...model,
      ...thinking.args,
      "--permission-prompt-tool",
      "stdio",
      ...resume,
    ],
    env: thinking.env,
  };
}

/**
 * agentd's `thinking` in Claude Code's terms: an effort level is `--effort` (sent to models
 * that take one), a number is the thinking budget in tokens (`MAX_THINKING_TOKENS`), and "off"
 * is a budget of 0, which turns thinking off.
 */
function thinkingSettings(thinking: string | null): ProtocolLaunch {
  if (thinking === null || thinking === "") return { args: [], env: {} };
  if ((CLAUDE_EFFORTS as readonly string[]).includes(thinking)) {
    return { args: ["--effort", thinking], env: {} };
  }
  if (thinking === "off") return { args: [], env: { MAX_THINKING_TOKENS: "0" } };
  if (/^\d+$/.test(thinking)) return { args: [], env: { MAX_THINKING_TOKENS: thinking } };
  throw new BadRequestError(
    `thinking "${thinking}" means nothing to Claude Code: use one of ${CLAUDE_EFFORTS.join(", ")} ` +
      "(its --effort), a number of thinking tokens, or off",
  );
}

/** Tools that only read, the ones the read-only policy allows when Claude Code asks. */
const READING_TOOLS = new Set(["Read", "Glob", "Grep", "LS", "NotebookRead"]);

/** Claude Code's tool for asking the user a question: there is no one to answer it. */
const ASK_USER_TOOL = "AskUserQuestion";

/** Tool results are kept whole in the agent log; their event carries a readable start. */
const TOOL_RESULT_CHARS = 2000;

export interface PermissionAnswer {
  allowed: boolean;
  reason: string;
}

/** How a policy answers Claude Code's question whether `tool` may run. */
export function permissionFor(policy: PermissionPolicy, tool: string): PermissionAnswer {
  if (tool === ASK_USER_TOOL) {
    return { allowed: false, reason: "no person attends this agent to answer its questions" };
  }
  switch (policy) {
    case "allow-all":
      return { allowed: true, reason: "the allow-all policy allows every tool" };
    case "read-only":
      return READING_TOOLS.has(tool)
        ? { allowed: true, reason: "the read-only policy allows tools that only read" }
        : {
            allowed: false,
            reason: `the read-only policy allows only ${[...READING_TOOLS].join(", ")}`,
          };
    case "ask-denied":
      return { allowed: false, reason: "the ask-denied policy denies what needs a person's yes" };
  }
}

// biome-ignore lint/suspicious/noExplicitAny: Claude Code's JSON, read field by field
type Message = any;

/** The prompt Claude Code is working on. */
interface RunningTurn {
  /** agentd's turn id; undefined for a turn this session did not start (see `fromStart`). */
  turnId: string | undefined;
  started: boolean;
  interrupted: boolean;
}

/**
 * One Claude Code process. Claude Code merges a prompt that arrives while it works into the
 * running turn (one `result` for both), so prompts wait here and go out one at a time, each
 * after the previous one's `result`: every turn gets its own answer, usage and cost.
 */
class ClaudeSession implements ProtocolSession {
  private readonly held: HeldPrompts;
  private running: RunningTurn | null = null;
  private sessionId: string | null;
  private model: string | undefined;
  /**
   * `total_cost_usd` is the process's running total; each turn costs the difference. null:
   * the process was running before this session (a daemon restart), so the total it has
   * reached is unknown until the next result.
   */
  private costSoFar: number | null = null;
  /** True when this session saw its process start; false for one a daemon restart handed over. */
  private fromStart = false;
  private readonly toolNames = new Map<string, string>();
  /** The tool uses of the running turn the session answered (others Claude Code denied). */
  private readonly answered = new Set<string>();
  private nextRequest = 1;

  constructor(
    private readonly host: SessionHost,
    private readonly agent: SessionAgent,
  ) {
    this.held = new HeldPrompts(host, "Claude Code");
    this.sessionId = agent.sessionId;
    this.model = agent.model === "auto" ? undefined : agent.model;
  }

  /** Claude Code says nothing before its first prompt: a new process is ready at once. */
  async open(): Promise<void> {
    this.costSoFar = 0;
    this.fromStart = true;
  }

  async prompt(prompt: Prompt): Promise<void> {
    if (this.running) {
      this.held.hold(prompt);
      return;
    }
    await this.write(prompt);
  }

  receive(line: string): AgentEvent[] {
    const message = parseMessage(line);
    if (message === null) {
      log.debug(`claude ${this.agent.id}: skipped a line that is not a JSON object`);
      return [];
    }
    switch (message.type) {
      case "system":
        return this.system(message);
      case "assistant":
        return [...this.activity(), ...this.toolCalls(message)];
      case "user":
        return [...this.activity(), ...this.toolResults(message)];
      case "result":
        return this.result(message);
      case "control_request":
        return this.controlRequest(message);
      case "control_response":
        return this.controlResponse(message);
      default:
        log.debug(`claude ${this.agent.id}: skipped a "${message.type}" message`);
        return [];
    }
  }

  async cancel(turnId: string): Promise<void> {
    if (this.held.withdraw(turnId)) return;
    if (!this.mayBeRunning(turnId)) {
      // Open in agentd, yet never written to this process (held by an earlier daemon).
      this.host.emit([cancelled(turnId, "cancelled; Claude Code never got the prompt")]);
      return;
    }
    if (this.running) this.running.interrupted = true;
    await this.control({ subtype: "interrupt" });
  }

  /** `end_session` makes Claude Code exit 0 on its own, even on a FIFO that stays open. */
  async close(): Promise<void> {
    await this.control({ subtype: "end_session" });
  }

  private mayBeRunning(turnId: string): boolean {
    if (this.running) return this.running.turnId === turnId || this.running.turnId === undefined;
    return !this.fromStart;
  }

  private async write(prompt: Prompt): Promise<void> {
    this.running = { turnId: prompt.turn_id, started: false, interrupted: false };
    this.answered.clear();
    try {
      await this.send(userMessage(prompt.input));
    } catch (error) {
      this.running = null;
      throw error;
    }
  }

  /** After a turn's result: the next held prompt goes out. */
  private writeNext(): void {
    this.held.sendNext((prompt) => this.write(prompt));
  }

  /** Claude Code works on a turn: the running turn has started (said once). */
  private activity(): AgentEvent[] {
    if (!this.running) {
      // A handed-over process works on a turn an earlier daemon gave it: prompts wait for it.
      if (!this.fromStart) this.running = { turnId: undefined, started: true, interrupted: false };
      return [];
    }
    if (this.running.started) return [];
    this.running.started = true;
    return [{ type: "turn.started", turn_id: this.running.turnId }];
  }

  private system(message: Message): AgentEvent[] {
    switch (message.subtype) {
      case "init": {
        if (typeof message.model === "string") this.model = message.model;
        const events = this.activity();
        const id = message.session_id;
        if (typeof id === "string" && id !== this.sessionId) {
          this.sessionId = id;
          events.push({ type: "session", session_id: id });
        }
        return events;
      }
      case "api_retry": {
        const status = message.error_status ?? "no status";
        return [
          {
            type: "log",
            level: "warn",
            message: `Claude Code retries a model call (${status}, ${message.error}): attempt ${message.attempt} of ${message.max_retries}`,
          },
        ];
      }
      default:
        log.debug(`claude ${this.agent.id}: skipped a system/${message.subtype} message`);
        return [];
    }
  }

  private toolCalls(message: Message): AgentEvent[] {
    return contentOf(message)
      .filter((block) => block?.type === "tool_use")
      .map((block) => {
        const name = String(block.name ?? "unknown");
        if (typeof block.id === "string") this.toolNames.set(block.id, name);
        return { type: "tool", phase: "call", name, detail: block.input };
      });
  }

  private toolResults(message: Message): AgentEvent[] {
    return contentOf(message)
      .filter((block) => block?.type === "tool_result")
      .map((block) => ({
        type: "tool",
        phase: "result",
        name: this.toolNames.get(block.tool_use_id) ?? "unknown",
        detail: { is_error: block.is_error === true, output: clip(textOf(block.content)) },
      }));
  }

  /** The end of a turn: its usage and cost, its outcome, Claude Code's own denials. */
  private result(message: Message): AgentEvent[] {
    const turn = this.running;
    this.running = null;
    const events: AgentEvent[] = [];
    if (turn && !turn.started) events.push({ type: "turn.started", turn_id: turn.turnId });
    events.push(...this.ownDenials(message));
    const usage = this.usageOf(message);
    if (usage) events.push(usage);
    if (turn) events.push(outcomeOf(message, turn));
    else if (message.is_error === true) {
      // Not a prompt's answer: Claude Code failed on its own, e.g. a session it cannot resume.
      events.push({ type: "log", level: "error", message: `Claude Code: ${errorOf(message)}` });
    }
    this.answered.clear();
    this.toolNames.clear();
    this.writeNext();
    return events;
  }

  /** Tool uses Claude Code denied without asking (its own settings' rules), recorded too. */
  private ownDenials(message: Message): AgentEvent[] {
    const denials: Message[] = Array.isArray(message.permission_denials)
      ? message.permission_denials
      : [];
    return denials
      .filter((denial) => !this.answered.has(denial?.tool_use_id))
      .map((denial) => ({
        type: "permission",
        tool: String(denial?.tool_name ?? "unknown"),
        decision: "denied",
        reason: "denied by Claude Code's own permission settings",
        detail: { input: denial?.tool_input, tool_use_id: denial?.tool_use_id },
      }));
  }

  /**
   * A turn's tokens (cache reads and writes count as input: they are input the model read)
   * and its cost, the growth of the process's running total.
   */
  private usageOf(message: Message): AgentEvent | null {
    const usage = message.usage ?? {};
    const input =
      tokens(usage.input_tokens) +
      tokens(usage.cache_creation_input_tokens) +
      tokens(usage.cache_read_input_tokens);
    const output = tokens(usage.output_tokens);
    const cost = this.costOf(message.total_cost_usd);
    if (input === 0 && output === 0 && !cost) return null;
    return {
      type: "usage",
      input_tokens: input,
      output_tokens: output,
      cost_micro_usd: cost,
      model: this.model,
    };
  }

  private costOf(total: unknown): number | null {
    if (typeof total !== "number" || !Number.isFinite(total)) return null;
    const before = this.costSoFar;
    this.costSoFar = total;
    if (before === null) return null;
    return Math.max(0, Math.round((total - before) * 1_000_000));
  }

  private controlRequest(message: Message): AgentEvent[] {
    const request = message.request ?? {};
    if (request.subtype === "can_use_tool")
      return this.answerPermission(message.request_id, request);
    // Anything else would wait for an answer nobody gives: it is refused at once.
    const subtype = String(request.subtype ?? "unknown");
    void this.reply(message.request_id, {
      subtype: "error",
      error: `agentd does not answer ${subtype} requests`,
    });
    return [
      {
        type: "log",
        level: "warn",
        message: `Claude Code asked a "${subtype}" control request; agentd refused it`,
      },
    ];
  }

  private answerPermission(requestId: unknown, request: Message): AgentEvent[] {
    const tool = String(request.tool_name ?? "unknown");
    const answer = permissionFor(this.agent.permissions, tool);
    const input = request.input ?? {};
    if (typeof request.tool_use_id === "string") this.answered.add(request.tool_use_id);
    void this.reply(requestId, {
      subtype: "success",
      response: answer.allowed
        ? { behavior: "allow", updatedInput: input }
        : {
            behavior: "deny",
            message: `agentd's permission policy denied ${tool}: ${answer.reason}`,
          },
    });
    return [
      {
        type: "permission",
        tool,
        decision: answer.allowed ? "allowed" : "denied",
        reason: answer.reason,
        detail: { input, tool_use_id: request.tool_use_id, description: request.description },
      },
    ];
  }

  private controlResponse(message: Message): AgentEvent[] {
    const response = message.response ?? {};
    if (response.subtype !== "error") return [];
    return [
      {
        type: "log",
        level: "warn",
        message: `Claude Code refused agentd's control request ${response.request_id}: ${response.error}`,
      },
    ];
  }

  private control(request: Record<string, unknown>): Promise<void> {
    return this.send({
      type: "control_request",
      request_id: `agentd-${this.nextRequest++}`,
      request,
    });
  }

  private async reply(requestId: unknown, response: Record<string, unknown>): Promise<void> {
    try {
      await this.send({
        type: "control_response",
        response: { ...response, request_id: requestId },
      });
    } catch (error) {
      log.warn(
        `claude ${this.agent.id}: could not answer a control request: ${errorMessage(error)}`,
      );
    }
  }

  private send(message: unknown): Promise<void> {
    return this.host.write(new TextEncoder().encode(`${JSON.stringify(message)}\n`));
  }
}

function userMessage(text: string) {
  return { type: "user", message: { role: "user", content: text }, parent_tool_use_id: null };
}

function cancelled(turnId: string | undefined, reason: string): AgentEvent {
  return { type: "turn.cancelled", turn_id: turnId, reason };
}

/**
 * How a turn ended. An interrupted turn reports an error (`error_during_execution`,
 * `terminal_reason: "aborted_…"`): it was cancelled. An HTTP error says `subtype: "success"`
 * with `is_error: true`: `is_error` decides.
 */
function outcomeOf(message: Message, turn: RunningTurn): AgentEvent {
  const aborted =
    typeof message.terminal_reason === "string" && message.terminal_reason.startsWith("aborted");
  if (message.is_error === true && (turn.interrupted || aborted)) {
    return cancelled(turn.turnId, "interrupted by request");
  }
  if (message.is_error === true) {
    return { type: "turn.failed", turn_id: turn.turnId, error: errorOf(message) };
  }
  const response = typeof message.result === "string" ? message.result : null;
  return { type: "turn.completed", turn_id: turn.turnId, response };
}

function errorOf(message: Message): string {
  if (typeof message.result === "string" && message.result !== "") return message.result;
  if (Array.isArray(message.errors) && message.errors.length > 0) {
    return message.errors.map(String).join("; ");
  }
  return `Claude Code ended the turn with ${message.subtype ?? "an error"}`;
}

function parseMessage(line: string): Message | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const value = JSON.parse(trimmed);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function contentOf(message: Message): Message[] {
  const content = message.message?.content;
  return Array.isArray(content) ? content : [];
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (typeof part?.text === "string" ? part.text : ""))
    .filter((text) => text !== "")
    .join("\n");
}

function clip(text: string): string {
  return text.length <= TOOL_RESULT_CHARS ? text : `${text.slice(0, TOOL_RESULT_CHARS)}…`;
}

function tokens(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
