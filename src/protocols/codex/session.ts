import { ConflictError, errorMessage } from "../../errors.ts";
import { log } from "../../log.ts";
import { VERSION } from "../../version.ts";
import { HeldPrompts } from "../held-prompts.ts";
import {
  isObject,
  type Json,
  parseMessage,
  type Reply,
  type RpcMessage,
  RpcPeer,
} from "../json-rpc.ts";
import type { AgentEvent, Prompt, ProtocolSession, SessionAgent, SessionHost } from "../session.ts";
import { changesOf, isToolItem, toolEvent } from "./items.ts";
import { approvalAnswer, threadSettings } from "./settings.ts";

/** One of agentd's prompts, running as a codex turn. */
interface RunningTurn {
  prompt: Prompt;
  /** Codex's id for the turn, once `turn/start` answered or `turn/started` named it. */
  codexTurnId: string | null;
  /** The turn's completed agent messages; the last one is the answer. */
  messages: string[];
  cancelRequested: boolean;
  /** The model codex rerouted the turn to, if it did. */
  model?: string;
}

interface Tokens {
  input: number;
  output: number;
}

/**
 * One codex app-server process: the handshake opens (or resumes) the agent's thread; each
 * prompt is one `turn/start`, sent only when the turn before it has completed, because a
 * `turn/start` while a turn runs joins that turn instead of starting a new one.
 */
export class CodexSession implements ProtocolSession {
  private readonly rpc: RpcPeer;
  private threadId: string | null;
  /** The model codex reports for the thread, put on usage events. */
  private model: string | undefined;
  private readonly held: HeldPrompts;
  private running: RunningTurn | null = null;
  /** The thread's token totals at the last report; usage is the difference (null: unknown). */
  private tokens: Tokens | null = null;
  /** Tool items under way, by id: a file-change approval request names only its item. */
  private readonly items = new Map<string, Json>();
  /**
   * True while this session did no handshake: it was attached to a process an earlier agentd
   * started, whose turn may be running. Usage reported then belongs to agentd's open turn.
   */
  private attached = true;

  constructor(
    private readonly host: SessionHost,
    private readonly agent: SessionAgent,
  ) {
    this.rpc = new RpcPeer((bytes) => host.write(bytes), `codex ${agent.id}`);
    this.held = new HeldPrompts(host, "codex");
    // An attached process already has the agent's thread open.
    this.threadId = agent.sessionId;
  }

  async open(): Promise<void> {
    this.attached = false;
    await this.rpc.ask("initialize", {
      clientInfo: { name: "agentd", title: "agentd", version: VERSION },
      capabilities: null,
    });
    await this.rpc.notify("initialized");
    const opened = await this.openThread();
    const threadId = opened?.thread?.id;
    if (typeof threadId !== "string")
      throw new Error("codex opened no thread: its reply has no id");
    this.threadId = threadId;
    this.model = typeof opened.model === "string" ? opened.model : undefined;
    if (threadId !== this.agent.sessionId) {
      this.host.emit([{ type: "session", session_id: threadId }]);
    }
  }

  async prompt(prompt: Prompt): Promise<void> {
    if (this.threadId === null) {
      throw new Error("codex has no thread open for this agent: its handshake did not finish");
    }
    if (this.running === null) await this.start(prompt);
    else this.held.hold(prompt);
  }

  receive(line: string): AgentEvent[] {
    const message = parseMessage(line);
    if (message === null) {
      log.debug(`codex ${this.agent.id}: skipped a line that is not JSON-RPC`);
      return [];
    }
    try {
      return this.handle(message);
    } catch (error) {
      return [warning(`codex: could not read a ${describe(message)}: ${errorMessage(error)}`)];
    }
  }

  async cancel(turnId: string): Promise<void> {
    if (this.held.withdraw(turnId)) return;
    const running = this.running;
    if (running?.prompt.turn_id !== turnId) {
      throw new ConflictError(`turn ${turnId} is not running in codex`);
    }
    running.cancelRequested = true;
    // Without codex's id yet, the interrupt follows turn/start's reply.
    if (running.codexTurnId !== null) await this.interrupt(running);
  }

  /** codex app-server has no goodbye request: the end of its input, which follows, ends it. */
  async close(): Promise<void> {}

  private async openThread(): Promise<Json> {
    const settings = threadSettings(this.agent);
    const threadId = this.agent.sessionId;
    if (threadId === null) return this.rpc.ask("thread/start", settings);
    try {
      return await this.rpc.ask("thread/resume", { threadId, excludeTurns: true, ...settings });
    } catch (error) {
      this.host.emit([
        warning(
          `codex could not resume thread ${threadId} (${errorMessage(error)}); ` +
            "a new thread starts without the earlier conversation",
        ),
      ]);
      return this.rpc.ask("thread/start", settings);
    }
  }

  private async start(prompt: Prompt): Promise<void> {
    const turn: RunningTurn = { prompt, codexTurnId: null, messages: [], cancelRequested: false };
    this.running = turn;
    const params = {
      threadId: this.threadId,
      input: [{ type: "text", text: prompt.input, text_elements: [] }],
    };
    try {
      await this.rpc.request("turn/start", params, (reply) => this.turnStartAnswered(turn, reply));
    } catch (error) {
      if (this.running === turn) this.running = null;
      throw error;
    }
  }

  /** The next held prompt, after a turn ended. */
  private startQueued(): void {
    if (this.running === null) this.held.sendNext((prompt) => this.start(prompt));
  }

  private turnStartAnswered(turn: RunningTurn, reply: Reply): AgentEvent[] {
    if (!reply.ok) {
      if (this.running === turn) this.running = null;
      this.startQueued();
      const { message, code } = reply.error.body;
      const reason = `codex refused the prompt: ${message} (code ${code})`;
      return [{ type: "turn.failed", turn_id: turn.prompt.turn_id, error: reason }];
    }
    const result = reply.result;
    if (typeof result?.turn?.id === "string") turn.codexTurnId ??= result.turn.id;
    if (turn.cancelRequested) void this.interrupt(turn).catch(() => {});
    return [];
  }

  private interrupt(turn: RunningTurn): Promise<void> {
    const params = { threadId: this.threadId, turnId: turn.codexTurnId };
    return this.rpc.request("turn/interrupt", params, (reply) =>
      reply.ok
        ? []
        : [
            warning(
              `codex did not interrupt turn ${turn.prompt.turn_id}: ${reply.error.body.message}`,
            ),
          ],
    );
  }

  private handle(message: RpcMessage): AgentEvent[] {
    switch (message.kind) {
      case "reply":
        return this.rpc.settle(message);
      case "request":
        return this.answer(message);
      case "notification":
        return this.notified(message.method, isObject(message.params) ? message.params : {});
    }
  }

  private notified(method: string, params: Json): AgentEvent[] {
    switch (method) {
      case "turn/started":
        return this.turnStarted(params.turn?.id);
      case "turn/completed":
        return isObject(params.turn)
          ? this.turnCompleted(params.turn)
          : [warning("codex: a turn/completed that names no turn")];
      case "item/started":
        return this.itemStarted(params.item ?? {});
      case "item/completed":
        return this.itemCompleted(params.item ?? {}, params.turnId);
      case "thread/tokenUsage/updated":
        return this.tokenUsage(params.tokenUsage ?? {});
      case "error":
        // A failure that ends the turn arrives again with turn/completed; retries only here.
        return params.willRetry ? [warning(`codex retries: ${params.error?.message}`)] : [];
      case "warning":
        return [warning(`codex: ${params.message}`)];
      case "configWarning":
      case "deprecationNotice":
        return [warning(`codex: ${params.summary}${params.details ? ` (${params.details})` : ""}`)];
      case "model/rerouted":
        return this.rerouted(params);
      default:
        // Streamed pieces (…/delta, …Delta) are too many to log; their items complete later.
        if (!/delta$/i.test(method)) log.debug(`codex ${this.agent.id}: skipped ${method}`);
        return [];
    }
  }

  /** The turn codex reports, when it is the running prompt's (unknown turns name none). */
  private runningTurn(codexTurnId: unknown): RunningTurn | null {
    const running = this.running;
    if (running === null) return null;
    if (running.codexTurnId === null && typeof codexTurnId === "string") {
      running.codexTurnId = codexTurnId;
    }
    return running.codexTurnId === codexTurnId ? running : null;
  }

  private rerouted(params: Json): AgentEvent[] {
    const turn = this.runningTurn(params.turnId);
    if (turn && typeof params.toModel === "string") turn.model = params.toModel;
    const message = `codex: the turn's model ${params.fromModel} was rerouted to ${params.toModel} (${JSON.stringify(params.reason)})`;
    return [{ type: "log", level: "info", message }];
  }

  private turnStarted(codexTurnId: unknown): AgentEvent[] {
    return [{ type: "turn.started", turn_id: this.runningTurn(codexTurnId)?.prompt.turn_id }];
  }

  private turnCompleted(turn: Json): AgentEvent[] {
    const ours = this.runningTurn(turn.id);
    if (ours) {
      this.running = null;
      this.startQueued();
    }
    const turn_id = ours?.prompt.turn_id;
    switch (turn.status) {
      case "completed":
        return [{ type: "turn.completed", turn_id, response: answerOf(ours, turn) }];
      case "interrupted":
        return [
          {
            type: "turn.cancelled",
            turn_id,
            reason: ours?.cancelRequested ? "cancelled on request" : "codex interrupted the turn",
          },
        ];
      default:
        return [{ type: "turn.failed", turn_id, error: turnError(turn) }];
    }
  }

  private itemStarted(item: Json): AgentEvent[] {
    if (!isToolItem(item)) return [];
    this.items.set(String(item.id), item);
    return [toolEvent("call", item)];
  }

  private itemCompleted(item: Json, codexTurnId: unknown): AgentEvent[] {
    if (item.type === "agentMessage" && typeof item.text === "string") {
      this.runningTurn(codexTurnId)?.messages.push(item.text);
      return [];
    }
    if (!isToolItem(item)) return [];
    this.items.delete(String(item.id));
    return [toolEvent("result", item)];
  }

  /**
   * Codex reports the thread's running totals once per model call. A report while no prompt of
   * this session runs is only a baseline: `thread/resume` repeats the stored totals.
   */
  private tokenUsage(usage: Json): AgentEvent[] {
    const total = tokensOf(usage.total);
    const before = this.tokens;
    this.tokens = total;
    if (this.running === null && !this.attached) return [];
    const last = tokensOf(usage.last);
    const counted =
      before === null || total.input < before.input || total.output < before.output
        ? last
        : { input: total.input - before.input, output: total.output - before.output };
    return [
      {
        type: "usage",
        input_tokens: counted.input,
        output_tokens: counted.output,
        // Codex reports no cost; unknown is null, never zero.
        cost_micro_usd: null,
        model: this.running?.model ?? this.model,
      },
    ];
  }

  /** Codex's own requests: approvals answered by the agent's policy, and each answer recorded. */
  private answer(request: Extract<RpcMessage, { kind: "request" }>): AgentEvent[] {
    const params = isObject(request.params) ? request.params : {};
    switch (request.method) {
      case "item/commandExecution/requestApproval":
        return this.decide(request.id, "commandExecution", {
          command: params.command,
          cwd: params.cwd,
          reason: params.reason ?? undefined,
        });
      case "item/fileChange/requestApproval":
        return this.decide(request.id, "fileChange", {
          changes: changesOf(this.items.get(String(params.itemId))),
          reason: params.reason ?? undefined,
          grant_root: params.grantRoot ?? undefined,
        });
      case "item/permissions/requestApproval":
        return this.grantPermissions(request.id, params);
      case "mcpServer/elicitation/request":
        void this.rpc.respond(request.id, { action: "decline", content: null, _meta: null });
        return [
          {
            type: "permission",
            tool: `${params.serverName}.elicitation`,
            decision: "denied",
            reason: "an MCP server asked for a person's input; no one is there to give it",
            detail: { message: params.message },
          },
        ];
      default:
        void this.rpc.respondError(request.id, {
          code: -32601,
          message: `agentd does not answer ${request.method}`,
        });
        return [warning(`codex asked ${request.method}, which agentd does not answer: refused`)];
    }
  }

  private decide(id: number | string, tool: string, detail: object): AgentEvent[] {
    const { decision, reason } = approvalAnswer(this.agent.permissions);
    void this.rpc.respond(id, { decision });
    const allowed = decision === "accept" ? "allowed" : "denied";
    return [{ type: "permission", tool, decision: allowed, reason, detail }];
  }

  /** A request for more sandbox permissions: all of them under allow-all, none otherwise. */
  private grantPermissions(id: number | string, params: Json): AgentEvent[] {
    const { decision, reason } = approvalAnswer(this.agent.permissions);
    const requested = isObject(params.permissions) ? params.permissions : {};
    const granted =
      decision === "accept"
        ? Object.fromEntries(Object.entries(requested).filter(([, value]) => value !== null))
        : {};
    void this.rpc.respond(id, { permissions: granted, scope: "turn" });
    return [
      {
        type: "permission",
        tool: "permissions",
        decision: decision === "accept" ? "allowed" : "denied",
        reason,
        detail: { permissions: requested, reason: params.reason ?? undefined },
      },
    ];
  }
}

function warning(message: string): AgentEvent {
  return { type: "log", level: "warn", message };
}

function describe(message: RpcMessage): string {
  return message.kind === "reply" ? `reply (${message.id})` : `${message.kind} ${message.method}`;
}

/** The turn's answer: its last agent message (codex may comment before its tool calls). */
function answerOf(ours: RunningTurn | null, turn: Json): string | null {
  const fromItems: string[] = (Array.isArray(turn.items) ? turn.items : [])
    .filter((item: Json) => item?.type === "agentMessage" && typeof item.text === "string")
    .map((item: Json) => item.text);
  return ours?.messages.at(-1) ?? fromItems.at(-1) ?? null;
}

/** A failed turn's error in words: codex's message and its machine-readable kind. */
function turnError(turn: Json): string {
  const error = turn.error ?? {};
  const message = typeof error.message === "string" ? error.message : `codex turn ${turn.status}`;
  const info = error.codexErrorInfo;
  const kind = typeof info === "string" ? info : isObject(info) ? Object.keys(info)[0] : undefined;
  const details = typeof error.additionalDetails === "string" ? ` ${error.additionalDetails}` : "";
  return `${message}${kind ? ` (${kind})` : ""}${details}`;
}

function tokensOf(counts: Json): Tokens {
  return { input: wholeCount(counts?.inputTokens), output: wholeCount(counts?.outputTokens) };
}

function wholeCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
