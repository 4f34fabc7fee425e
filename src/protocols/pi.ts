import type { PermissionPolicy } from "../agents/status.ts";
import { BadRequestError, errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import goodbye from "../templates/pi-goodbye.ts" with { type: "text" };
import permissionGate from "../templates/pi-permission-gate.ts" with { type: "text" };
import { HeldPrompts } from "./held-prompts.ts";
import type {
  AgentEvent,
  DriverFiles,
  LaunchAgent,
  Prompt,
  ProtocolDriver,
  ProtocolLaunch,
  ProtocolSession,
  SessionAgent,
  SessionHost,
} from "./session.ts";

/**
 * pi's RPC mode (`pi --mode rpc`): one JSON command per line in (`prompt`, `abort`,
 * `get_state`), JSON events out. A prompt runs from `agent_start` to `agent_end` (pi's own
 * `turn_start`/`turn_end` wrap each model call); every assistant `message_end` carries that
 * call's usage and cost, which pi prices from its model registry. pi has no permission
 * prompts: the policy is the tools it offers, or agentd's permission gate (an extension whose
 * questions the session answers). Nor has it a goodbye but the end of its input: agentd's
 * goodbye extension adds one. Sessions are files; a new process continues one with
 * `--session <file>`. interop/PROTOCOLS.md shows the messages as the pinned pi sends them.
 */
export const pi: ProtocolDriver = {
  name: "pi",
  command: "pi",
  capabilities: { envelopes: false, cancel: true, resume: true },
  launch: piLaunch,
  open: (host, agent) => new PiSession(host, agent),
};

/** pi's thinking levels (`--thinking`). */
export const PI_THINKING_LEVELS = ["off", "minimal", "low", "medium", "high", "xhigh"] as const;

/** pi's built-in tools that only read: all a read-only agent is offered. */
export const PI_READING_TOOLS = ["read", "grep", "find", "ls"] as const;

/**
 * agentd's extensions for pi, by their file names in agentd's driver files. Bun embeds them as
 * text (the import attribute); TypeScript checks them as the modules they are.
 */
export const PERMISSION_GATE_FILE = "pi-permission-gate.ts";
export const PERMISSION_GATE_SOURCE = permissionGate as unknown as string;
export const GOODBYE_FILE = "pi-goodbye.ts";
export const GOODBYE_SOURCE = goodbye as unknown as string;

/** The goodbye extension's command. */
const GOODBYE = "/agentd-goodbye";

/** What the gate's questions carry (see src/templates/pi-permission-gate.ts). */
const GATE_QUESTION = "agentd-permission";

/**
 * The command line: RPC mode; the provider and model unless agentd's default "auto" (pi's own
 * defaults then); the thinking level; the goodbye extension; the permission policy; the
 * session to continue.
 */
export function piLaunch(agent: LaunchAgent, files?: DriverFiles): ProtocolLaunch {
  if (!files) throw new Error("the pi driver needs agentd's driver files for its extensions");
  const session = agent.sessionId === null ? [] : ["--session", agent.sessionId];
  return {
    args: [
      "--mode",
      "rpc",
      ...chosen("--provider", agent.provider),
      ...chosen("--model", agent.model),
      ...thinkingArgs(agent.thinking),
      "--extension",
      files.install(GOODBYE_FILE, GOODBYE_SOURCE),
      ...permissionArgs(agent.permissions, files),
      ...session,
    ],
    env: {},
  };
}

function chosen(flag: string, value: string): string[] {
  return value === "" || value === "auto" ? [] : [flag, value];
}

function thinkingArgs(thinking: string | null): string[] {
  if (thinking === null || thinking === "") return [];
  if ((PI_THINKING_LEVELS as readonly string[]).includes(thinking)) return ["--thinking", thinking];
  throw new BadRequestError(
    `thinking "${thinking}" means nothing to pi: use one of ${PI_THINKING_LEVELS.join(", ")} ` +
      "(its --thinking)",
  );
}

/**
 * The policy in pi's terms. allow-all is pi's own way: every tool runs unasked. read-only: pi
 * offers the model its reading tools only (no shell, no edits). ask-denied: agentd's gate asks
 * before every other tool, and the session answers no.
 */
function permissionArgs(policy: PermissionPolicy, files: DriverFiles): string[] {
  switch (policy) {
    case "allow-all":
      return [];
    case "read-only":
      return ["--tools", PI_READING_TOOLS.join(",")];
    case "ask-denied":
      return ["--extension", files.install(PERMISSION_GATE_FILE, PERMISSION_GATE_SOURCE)];
  }
}

export interface PermissionAnswer {
  allowed: boolean;
  reason: string;
}

/** How a policy answers the gate's question whether `tool` may run. */
export function permissionFor(policy: PermissionPolicy, tool: string): PermissionAnswer {
  switch (policy) {
    case "allow-all":
      return { allowed: true, reason: "the allow-all policy allows every tool" };
    case "read-only":
      return (PI_READING_TOOLS as readonly string[]).includes(tool)
        ? { allowed: true, reason: "the read-only policy allows tools that only read" }
        : {
            allowed: false,
            reason: `the read-only policy allows only ${PI_READING_TOOLS.join(", ")}`,
          };
    case "ask-denied":
      return { allowed: false, reason: "the ask-denied policy denies what needs a person's yes" };
  }
}

/** Tool results are kept whole in the agent log; their event carries a readable start. */
const TOOL_RESULT_CHARS = 2000;

// biome-ignore lint/suspicious/noExplicitAny: pi's JSON, read field by field
type Message = any;

/** What the session does with the answer to one of its own commands. */
type ResponseHandler = (response: Message) => AgentEvent[];

/** A run of pi's agent loop: a prompt of agentd's, or one the session found under way. */
interface Run {
  /** agentd's turn id; undefined when agentd's oldest open turn is meant (see `adopt`). */
  turnId: string | undefined;
  /** The `prompt` command's id; null for a run this session did not prompt. */
  requestId: string | null;
  /** Whether its outcome is a turn's: false for a run pi started on its own. */
  reported: boolean;
  started: boolean;
  aborting: boolean;
  /** The outcome at its last `agent_end`, held until pi has said whether it goes on. */
  ending: AgentEvent | null;
  /** After that `agent_end` pi went on: a retry, or a compaction and a retry. */
  continuing: boolean;
}

function newRun(turnId: string | undefined, requestId: string | null, reported: boolean): Run {
  return {
    turnId,
    requestId,
    reported,
    started: false,
    aborting: false,
    ending: null,
    continuing: false,
  };
}

/**
 * One pi process. pi refuses a prompt while it works on one, so prompts wait here and go out
 * one at a time, each after the previous one's end. The end of a run is its `agent_end`,
 * unless pi then tries again (`auto_retry_start`, or an overflow `compaction_start`), which it
 * announces at once, before it reads another command: so the outcome is reported when pi
 * answers a command sent after the `agent_end`, or when its retrying is over.
 */
class PiSession implements ProtocolSession {
  private readonly held: HeldPrompts;
  private running: Run | null = null;
  private readonly handlers = new Map<string, ResponseHandler>();
  private nextCommand = 1;
  /** True when this session saw its process start; false for one a daemon restart handed over. */
  private fromStart = false;
  /** A handed-over process is asked once whether it is busy before it is given a prompt. */
  private askingBusy = false;
  private callStartedAt: number | null = null;

  constructor(
    private readonly host: SessionHost,
    private readonly agent: SessionAgent,
  ) {
    this.held = new HeldPrompts(host, "pi");
  }

  /** pi answers `get_state` once it has started: its session file is the one to resume. */
  async open(): Promise<void> {
    this.fromStart = true;
    const state = await this.ask({ type: "get_state" });
    if (state.success !== true) {
      throw new Error(`pi refused get_state: ${state.error ?? "no reason given"}`);
    }
    const file = state.data?.sessionFile;
    if (typeof file === "string" && file !== this.agent.sessionId) {
      this.host.emit([{ type: "session", session_id: file }]);
    }
  }

  async prompt(prompt: Prompt): Promise<void> {
    if (this.running || this.askingBusy) {
      this.held.hold(prompt);
      return;
    }
    if (!this.fromStart) {
      // It may be working on a prompt an earlier daemon gave it: pi would refuse another.
      this.held.hold(prompt);
      this.askingBusy = true;
      try {
        await this.command({ type: "get_state" }, (state) => this.busyAnswered(state));
      } catch (error) {
        this.askingBusy = false;
        this.held.drop(prompt);
        throw error;
      }
      return;
    }
    await this.write(prompt);
  }

  receive(line: string): AgentEvent[] {
    const message = parseMessage(line);
    if (message === null) {
      log.debug(`pi ${this.agent.id}: skipped a line that is not a JSON object`);
      return [];
    }
    switch (message.type) {
      case "response":
        return this.response(message);
      case "agent_start":
        return this.agentStarted();
      case "agent_end":
        return this.agentEnded(message);
      case "message_start":
        return this.callStarted(message.message);
      case "message_end":
        return this.callEnded(message.message);
      case "tool_execution_start":
        return [
          { type: "tool", phase: "call", name: toolName(message), detail: message.args ?? null },
        ];
      case "tool_execution_end":
        return [toolResult(message)];
      case "extension_ui_request":
        return this.dialog(message);
      case "auto_retry_start":
        this.goesOn();
        return [warning(`pi retries a failed model call: ${message.errorMessage ?? "no reason"}`)];
      case "auto_retry_end":
        return this.retryEnded(message);
      case "compaction_start":
        if (message.reason === "overflow") this.goesOn();
        return [info(`pi compacts the conversation (${message.reason ?? "no reason given"})`)];
      case "compaction_end":
        return this.compactionEnded(message);
      case "extension_error":
        return [
          warning(
            `pi extension ${message.extensionPath ?? "?"} failed on ${message.event ?? "?"}: ${message.error ?? "no reason"}`,
          ),
        ];
      case "turn_start":
      case "turn_end":
      case "message_update":
      case "tool_execution_update":
      case "queue_update":
        // Per model call, per streamed piece, per queued message: nothing agentd records.
        return [];
      default:
        log.debug(`pi ${this.agent.id}: skipped a "${message.type}" message`);
        return [];
    }
  }

  async cancel(turnId: string): Promise<void> {
    if (this.held.withdraw(turnId)) return;
    const run = this.running;
    if (run?.reported && (run.turnId === turnId || run.turnId === undefined)) {
      await this.abort(run);
      return;
    }
    if (!this.fromStart && !run) {
      // A handed-over process may be working on it without this session having seen it start.
      await this.command({ type: "get_state" }, (state) => this.cancelIfIdle(turnId, state));
      return;
    }
    this.host.emit([cancelled(turnId, "cancelled; pi never got the prompt")]);
  }

  /**
   * The goodbye extension's command: pi shuts down with exit code 0 (its input, a persistent
   * agent's FIFO, may never end). pi answers the prompt just before it goes.
   */
  async close(): Promise<void> {
    await this.ask({ type: "prompt", message: GOODBYE });
  }

  private async write(prompt: Prompt): Promise<void> {
    const requestId = this.commandId();
    this.running = newRun(prompt.turn_id, requestId, true);
    try {
      await this.send({ id: requestId, type: "prompt", message: prompt.input });
    } catch (error) {
      this.running = null;
      throw error;
    }
  }

  /** After a run's end: the next waiting prompt goes out. */
  private writeNext(): void {
    this.held.sendNext((prompt) => this.write(prompt));
  }

  private async abort(run: Run): Promise<void> {
    run.aborting = true;
    await this.send({ id: this.commandId(), type: "abort" });
  }

  /**
   * A run this session did not prompt. In a process handed over by a daemon restart it is the
   * prompt an earlier daemon gave (agentd's oldest open turn); otherwise pi started it on its
   * own (an extension's doing), and its outcome is no turn's.
   */
  private adopt(): Run {
    return newRun(undefined, null, !this.fromStart);
  }

  private response(message: Message): AgentEvent[] {
    const handler = typeof message.id === "string" ? this.handlers.get(message.id) : undefined;
    if (handler) {
      this.handlers.delete(message.id);
      return handler(message);
    }
    const run = this.running;
    if (message.command === "prompt" && run && message.id === run.requestId) {
      if (message.success === true) {
        // Taken. Whether a run follows is known once pi answers the next command.
        this.probe((state) => this.promptTaken(run, state));
        return [];
      }
      this.running = null;
      this.writeNext();
      return [
        {
          type: "turn.failed",
          turn_id: run.turnId,
          error: `pi refused the prompt: ${message.error ?? "no reason given"}`,
        },
      ];
    }
    if (message.success === false) {
      return [warning(`pi refused ${message.command ?? "a command"}: ${message.error ?? "?"}`)];
    }
    return [];
  }

  /**
   * pi starts a prompt's run before it reads another command, unless something took the prompt
   * without the model (an extension's command): then no `agent_end` will come.
   */
  private promptTaken(run: Run, state: Message): AgentEvent[] {
    const ran = run.started || run.ending !== null;
    if (this.running !== run || ran || state.data?.isStreaming !== false) return [];
    this.running = null;
    this.writeNext();
    return [
      info("pi handled the prompt without the model (an extension's command)"),
      { type: "turn.completed", turn_id: run.turnId, response: null },
    ];
  }

  private agentStarted(): AgentEvent[] {
    if (!this.running) this.running = this.adopt();
    const run = this.running;
    if (run.ending) run.continuing = true;
    if (run.started) return [];
    run.started = true;
    if (run.requestId === null) return [];
    return [{ type: "turn.started", turn_id: run.turnId }];
  }

  private agentEnded(message: Message): AgentEvent[] {
    // A handed-over process can end a run whose start the earlier daemon saw.
    if (!this.running && !this.fromStart) this.running = this.adopt();
    const run = this.running;
    if (!run) return [];
    run.ending = outcomeOf(Array.isArray(message.messages) ? message.messages : [], run);
    run.continuing = false;
    this.probe(() => this.settle(run));
    return [];
  }

  /** pi announced another attempt after the run's `agent_end`. */
  private goesOn(): void {
    if (this.running?.ending) this.running.continuing = true;
  }

  /** Retrying is over without a new attempt (given up, or cancelled while it waited). */
  private retryEnded(message: Message): AgentEvent[] {
    if (message.success === true) return [];
    const events = [warning(`pi gave up retrying: ${message.finalError ?? "no reason given"}`)];
    const run = this.running;
    if (!run?.continuing) return events;
    run.continuing = false;
    return [...events, ...this.settle(run)];
  }

  private compactionEnded(message: Message): AgentEvent[] {
    const outcome =
      message.aborted === true
        ? "was aborted"
        : message.result
          ? "is done"
          : `failed: ${message.errorMessage ?? "no reason given"}`;
    const events = [info(`pi's compaction ${outcome}`)];
    const run = this.running;
    if (!run?.continuing || message.willRetry === true) return events;
    run.continuing = false;
    return [...events, ...this.settle(run)];
  }

  /** The run's outcome, unless pi went on after its `agent_end`. */
  private settle(run: Run): AgentEvent[] {
    if (this.running !== run || run.continuing || !run.ending) return [];
    this.running = null;
    this.writeNext();
    if (!run.reported) return [info("pi finished a run of its own (not a prompt of agentd's)")];
    // A run that failed before it began (pi reports that as its agent_end alone).
    const unstarted = run.requestId !== null && !run.started;
    return unstarted ? [{ type: "turn.started", turn_id: run.turnId }, run.ending] : [run.ending];
  }

  private busyAnswered(state: Message): AgentEvent[] {
    this.askingBusy = false;
    if (this.running) return [];
    if (state.data?.isStreaming === true) {
      this.running = this.adopt();
      this.running.started = true;
      return [];
    }
    this.writeNext();
    return [];
  }

  private cancelIfIdle(turnId: string, state: Message): AgentEvent[] {
    if (state.data?.isStreaming === true) {
      this.running ??= { ...this.adopt(), started: true };
      void this.abort(this.running).catch((error) => this.unsent("abort", error));
      return [];
    }
    return [cancelled(turnId, "cancelled; pi never got the prompt")];
  }

  private callStarted(message: Message): AgentEvent[] {
    if (message?.role !== "assistant") return [];
    this.callStartedAt = Date.now();
    return [{ type: "inference", phase: "start", model: str(message.model) }];
  }

  /** An assistant message is one model call: its duration, tokens and cost. */
  private callEnded(message: Message): AgentEvent[] {
    if (message?.role !== "assistant") return [];
    const startedAt = this.callStartedAt;
    this.callStartedAt = null;
    const events: AgentEvent[] = [
      {
        type: "inference",
        phase: "end",
        model: str(message.model),
        duration_ms: startedAt === null ? undefined : Date.now() - startedAt,
      },
    ];
    const usage = usageOf(message);
    if (usage) events.push(usage);
    return events;
  }

  /**
   * Extensions' dialogs: the gate's question is answered by the agent's policy; any other
   * dialog is dismissed (no person attends this agent), and both are recorded. The rest
   * (notifications, status lines, widgets, titles) are for a screen agentd does not have.
   */
  private dialog(request: Message): AgentEvent[] {
    switch (request.method) {
      case "confirm":
      case "select":
      case "input":
      case "editor":
        break;
      case "notify":
        return [notification(request)];
      default:
        return [];
    }
    const gate = gateQuestion(request);
    if (gate) {
      const answer = permissionFor(this.agent.permissions, gate.tool);
      this.reply({ type: "extension_ui_response", id: request.id, confirmed: answer.allowed });
      return [
        {
          type: "permission",
          tool: gate.tool,
          decision: answer.allowed ? "allowed" : "denied",
          reason: answer.reason,
          detail: { input: gate.input },
        },
      ];
    }
    this.reply({ type: "extension_ui_response", id: request.id, cancelled: true });
    return [
      {
        type: "permission",
        tool: "extension dialog",
        decision: "denied",
        reason: "no person attends this agent to answer an extension's dialog: it was dismissed",
        detail: { method: request.method, title: request.title, message: request.message },
      },
    ];
  }

  /** Sends a command; `handler` turns its answer into events. */
  private command(command: Record<string, unknown>, handler: ResponseHandler): Promise<void> {
    const id = this.commandId();
    this.handlers.set(id, handler);
    return this.send({ id, ...command }).catch((error) => {
      this.handlers.delete(id);
      throw error;
    });
  }

  /**
   * A question whose answer says pi has read everything before it (`get_state`, answered at
   * once). One that cannot be written means the process is gone: its exit ends the turn.
   */
  private probe(handler: ResponseHandler): void {
    this.command({ type: "get_state" }, handler).catch((error) => this.unsent("get_state", error));
  }

  /** A command whose answer the caller awaits (the handshake). */
  private ask(command: Record<string, unknown>): Promise<Message> {
    return new Promise((resolve, reject) => {
      const id = this.commandId();
      this.handlers.set(id, (response) => {
        resolve(response);
        return [];
      });
      this.send({ id, ...command }).catch((error) => {
        this.handlers.delete(id);
        reject(error);
      });
    });
  }

  private reply(response: Record<string, unknown>): void {
    this.send(response).catch((error) => this.unsent("an answer to a dialog", error));
  }

  private unsent(what: string, error: unknown): void {
    log.warn(`pi ${this.agent.id}: could not send ${what}: ${errorMessage(error)}`);
  }

  private commandId(): string {
    return `agentd-${this.nextCommand++}`;
  }

  private send(message: unknown): Promise<void> {
    return this.host.write(new TextEncoder().encode(`${JSON.stringify(message)}\n`));
  }
}

/**
 * How a run ended, from its last assistant message: aborted is cancelled (so is any other end
 * of a run agentd asked to abort, bar a finished answer); an error is a failed turn; anything
 * else is the answer.
 */
function outcomeOf(messages: Message[], run: Run): AgentEvent {
  const last = messages.findLast((message) => message?.role === "assistant");
  const stop = last?.stopReason;
  if (stop === "aborted" || (run.aborting && stop !== "stop" && stop !== "length")) {
    return cancelled(run.turnId, "aborted by request");
  }
  if (stop === "error") {
    return {
      type: "turn.failed",
      turn_id: run.turnId,
      error: str(last.errorMessage) || "pi reported an error without a message",
    };
  }
  return { type: "turn.completed", turn_id: run.turnId, response: textOf(last?.content) };
}

/**
 * One model call's tokens (cache reads and writes count as input: the model read them) and
 * cost. pi prices calls from its model registry; a cost of 0 for tokens used means pi has no
 * price for the model: unknown (the operator's price table may know it), not free.
 */
function usageOf(message: Message): AgentEvent | null {
  const usage = message.usage ?? {};
  const input = tokens(usage.input) + tokens(usage.cacheRead) + tokens(usage.cacheWrite);
  const output = tokens(usage.output);
  if (input === 0 && output === 0) return null;
  const total = usage.cost?.total;
  const cost =
    typeof total === "number" && Number.isFinite(total) && total > 0
      ? Math.round(total * 1_000_000)
      : null;
  return {
    type: "usage",
    input_tokens: input,
    output_tokens: output,
    cost_micro_usd: cost,
    model: str(message.model),
  };
}

function gateQuestion(request: Message): { tool: string; input: unknown } | null {
  if (request.method !== "confirm" || typeof request.message !== "string") return null;
  const question = parseMessage(request.message);
  if (question?.question !== GATE_QUESTION || typeof question.tool !== "string") return null;
  return { tool: question.tool, input: question.input };
}

function notification(request: Message): AgentEvent {
  const level =
    request.notifyType === "error" ? "error" : request.notifyType === "warning" ? "warn" : "info";
  return { type: "log", level, message: `pi: ${request.message ?? ""}` };
}

function toolName(message: Message): string {
  return typeof message.toolName === "string" ? message.toolName : "unknown";
}

function toolResult(message: Message): AgentEvent {
  return {
    type: "tool",
    phase: "result",
    name: toolName(message),
    detail: { is_error: message.isError === true, output: clip(textOf(message.result?.content)) },
  };
}

function cancelled(turnId: string | undefined, reason: string): AgentEvent {
  return { type: "turn.cancelled", turn_id: turnId, reason };
}

function info(message: string): AgentEvent {
  return { type: "log", level: "info", message };
}

function warning(message: string): AgentEvent {
  return { type: "log", level: "warn", message };
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

/** The text parts of a message's content, joined; null when it has none. */
function textOf(content: unknown): string | null {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  const texts = content
    .filter((part) => part?.type === "text" && typeof part.text === "string")
    .map((part) => part.text as string);
  return texts.length === 0 ? null : texts.join("");
}

function clip(text: string | null): string {
  if (text === null) return "";
  return text.length <= TOOL_RESULT_CHARS ? text : `${text.slice(0, TOOL_RESULT_CHARS)}…`;
}

function tokens(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
