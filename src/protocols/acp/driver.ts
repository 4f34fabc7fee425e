import { DEFAULT_MODEL } from "../../agents/new-agent.ts";
import type { PermissionPolicy } from "../../agents/status.ts";
import { errorMessage } from "../../errors.ts";
import { VERSION } from "../../version.ts";
import { HeldPrompts } from "../held-prompts.ts";
import {
  type Json,
  METHOD_NOT_FOUND,
  parseMessage,
  type Reply,
  RpcCallError,
  type RpcMessage,
  RpcPeer,
} from "../json-rpc.ts";
import type {
  AgentEvent,
  Prompt,
  ProtocolDriver,
  ProtocolSession,
  SessionAgent,
  SessionHost,
} from "../session.ts";
import { answerPermission } from "./permissions.ts";
import { applySettings, currentModel, settingsOf } from "./session-config.ts";
import { ActiveTurn, toolKind } from "./turn.ts";
import { resultModel, SessionCost, turnTokens, usageEvent } from "./usage.ts";

/**
 * The Agent Client Protocol (agentclientprotocol.com, version 1) over the agent's stdin and
 * stdout, for any ACP agent (`opencode acp`, `gemini --acp`, …): `initialize`, then a session
 * (`session/new`, or the stored one through `session/resume` or `session/load`, whichever the
 * agent advertises), one `session/prompt` per turn whose reply's `stopReason` ends it,
 * `session/cancel` to interrupt, `session/close` as the goodbye. The agent's
 * `session/request_permission` is answered by the agent's permission policy.
 */
export const acp: ProtocolDriver = {
  name: "acp",
  command: { required: 'the ACP agent\'s program and flags, e.g. ["opencode","acp"]' },
  capabilities: { envelopes: false, cancel: true, resume: true },
  launch(agent) {
    return { args: [], env: opencodePermissionEnv(agent.permissions) };
  },
  open(host, agent) {
    return new AcpSession(host, agent);
  },
};

export const ACP_PROTOCOL_VERSION = 1;

/**
 * opencode workaround: its default configuration runs every tool without asking, so no
 * request would ever reach the policy. `OPENCODE_PERMISSION` (merged over its config) makes
 * it ask before every tool; allow-all leaves its configuration alone. Other agents ignore the
 * variable, and an agent's own `env` can set it otherwise.
 */
function opencodePermissionEnv(policy: PermissionPolicy): Record<string, string> {
  return policy === "allow-all" ? {} : { OPENCODE_PERMISSION: JSON.stringify({ "*": "ask" }) };
}

/**
 * Gemini CLI 0.61 workaround: it goes on replaying a loaded session's history after its
 * `session/load` reply (the spec says before), with no end marker. The handshake waits until
 * the agent has been quiet this long, so replayed text is never taken for the next answer.
 */
const REPLAY_QUIET_MS = 300;
/** However chatty the agent, the wait for quiet after a load ends after this. */
const REPLAY_QUIET_LIMIT_MS = 5_000;

const CANCELLED_REASON = "cancelled with session/cancel";

class AcpSession implements ProtocolSession {
  private readonly rpc: RpcPeer;
  /**
   * The agent's session. A session created for a process that was already talking to an
   * earlier daemon (no handshake) takes up the stored one.
   */
  private sessionId: string | null;
  private canClose = false;
  private model: string | undefined;
  private cost: SessionCost;
  private turn: ActiveTurn | null = null;
  private readonly held: HeldPrompts;
  private lastLineAt = 0;

  constructor(
    private readonly host: SessionHost,
    private readonly agent: SessionAgent,
  ) {
    this.rpc = new RpcPeer((bytes) => host.write(bytes), `acp ${agent.id}`);
    this.held = new HeldPrompts(host, "the agent");
    this.sessionId = agent.sessionId;
    this.cost = new SessionCost("unknown");
  }

  async open(): Promise<void> {
    const init = await this.rpc.ask("initialize", {
      protocolVersion: ACP_PROTOCOL_VERSION,
      // agentd offers no file system or terminal: agents use their own.
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: "agentd", version: VERSION },
    });
    if (init?.protocolVersion !== ACP_PROTOCOL_VERSION) {
      throw new Error(
        `the agent speaks ACP version ${JSON.stringify(init?.protocolVersion)}; agentd speaks version ${ACP_PROTOCOL_VERSION}`,
      );
    }
    const capabilities = init.agentCapabilities ?? {};
    this.canClose = isObject(capabilities.sessionCapabilities?.close);
    const { sessionId, setup } = await this.startSession(capabilities, authMethodsOf(init));
    this.model = await applySettings(
      (method, params) => this.rpc.ask(method, params),
      sessionId,
      settingsOf(setup),
      {
        model: this.agent.model === DEFAULT_MODEL ? null : this.agent.model,
        thinking: this.agent.thinking ?? null,
      },
    );
  }

  async prompt(prompt: Prompt): Promise<void> {
    if (this.turn !== null) {
      this.held.hold(prompt);
      return;
    }
    const { events, written } = this.start(prompt);
    this.host.emit(events);
    await written;
  }

  receive(line: string): AgentEvent[] {
    this.lastLineAt = Date.now();
    const message = parseMessage(line);
    if (message === null) return [];
    try {
      return this.handle(message);
    } catch (error) {
      return [log("warn", `ACP message not understood: ${errorMessage(error)}`)];
    }
  }

  /**
   * The running turn: `session/cancel`, and permission requests from then on are answered
   * `cancelled` (none is ever left pending: each is answered as it arrives). A queued one:
   * dropped before it reaches the agent.
   */
  async cancel(turnId: string): Promise<void> {
    if (this.turn?.turnId === turnId) {
      this.turn.cancelling = true;
      await this.rpc.notify("session/cancel", { sessionId: this.sessionId });
      return;
    }
    this.held.withdraw(turnId);
  }

  /** `session/close` where the agent offers it; closing stdin (the runtime's) ends the rest. */
  async close(): Promise<void> {
    if (!this.canClose || this.sessionId === null) return;
    await this.rpc.ask("session/close", { sessionId: this.sessionId });
  }

  /** The stored session resumed or loaded when the agent can, else a new one. */
  private async startSession(
    capabilities: Json,
    authMethods: string[],
  ): Promise<{ sessionId: string; setup: Json }> {
    const stored = this.agent.sessionId;
    const resumed = stored === null ? null : await this.continueSession(stored, capabilities);
    if (resumed !== null) return resumed;
    const setup = await this.rpc
      .ask("session/new", { cwd: this.agent.cwd, mcpServers: [] })
      .catch((error) => Promise.reject(explainAuth(error, authMethods)));
    if (typeof setup?.sessionId !== "string") {
      throw new Error(`session/new answered without a sessionId: ${JSON.stringify(setup)}`);
    }
    this.sessionId = setup.sessionId;
    this.cost = new SessionCost("new");
    this.host.emit([{ type: "session", session_id: setup.sessionId }]);
    return { sessionId: setup.sessionId, setup };
  }

  /**
   * `session/resume` (no replay) where the agent offers it, else `session/load`; null, with a
   * warning, when the agent can do neither or refuses.
   */
  private async continueSession(
    sessionId: string,
    capabilities: Json,
  ): Promise<{ sessionId: string; setup: Json } | null> {
    const method = isObject(capabilities.sessionCapabilities?.resume)
      ? "session/resume"
      : capabilities.loadSession === true
        ? "session/load"
        : null;
    if (method === null) {
      this.host.emit([
        log("warn", `the agent cannot resume session ${sessionId}: a new session starts`),
      ]);
      return null;
    }
    try {
      const setup = await this.rpc.ask(method, {
        sessionId,
        cwd: this.agent.cwd,
        mcpServers: [],
      });
      if (method === "session/load") await this.replayOver();
      return { sessionId, setup };
    } catch (error) {
      if (!(error instanceof RpcCallError)) throw error;
      this.host.emit([
        log("warn", `${error.message}; a new session starts instead of ${sessionId}`),
      ]);
      return null;
    }
  }

  /** Resolves once the agent has been quiet for a while (see REPLAY_QUIET_MS). */
  private async replayOver(): Promise<void> {
    const giveUpAt = Date.now() + REPLAY_QUIET_LIMIT_MS;
    for (;;) {
      const quietFor = Date.now() - this.lastLineAt;
      if (quietFor >= REPLAY_QUIET_MS || Date.now() >= giveUpAt) return;
      await Bun.sleep(REPLAY_QUIET_MS - quietFor);
    }
  }

  private handle(message: RpcMessage): AgentEvent[] {
    switch (message.kind) {
      case "reply":
        return this.rpc.settle(message);
      case "request":
        return this.answer(message);
      case "notification":
        return message.method === "session/update" ? this.updated(message.params) : [];
    }
  }

  /** The agent's own requests: permissions by policy; nothing else is offered. */
  private answer(request: RpcMessage & { kind: "request" }): AgentEvent[] {
    if (request.method !== "session/request_permission") {
      this.reply(
        this.rpc.respondError(request.id, {
          code: METHOD_NOT_FOUND,
          message: `agentd does not offer ${request.method}`,
        }),
      );
      return [log("warn", `the agent asked for ${request.method}, which agentd does not offer`)];
    }
    const { toolCall, options } = request.params ?? {};
    const { result, event } = answerPermission(
      this.agent.permissions,
      {
        kind: toolKind(toolCall, this.turn),
        toolCall,
        options: Array.isArray(options) ? options : [],
      },
      this.turn?.cancelling ?? false,
    );
    this.reply(this.rpc.respond(request.id, result));
    return [event];
  }

  /** A `session/update`: text and tools of the turn under way, and the session's cost. */
  private updated(params: Json): AgentEvent[] {
    if (params?.sessionId !== this.sessionId) return [];
    const update = params.update;
    switch (update?.sessionUpdate) {
      case "agent_message_chunk":
        this.turn?.chunk(update);
        return [];
      case "tool_call":
      case "tool_call_update":
        return this.turn?.tool(update) ?? [];
      case "usage_update":
        this.cost.reported(update);
        return [];
      case "config_option_update":
        this.model = currentModel(settingsOf(update)) ?? this.model;
        return [];
      default:
        // Plans, thoughts, commands, modes, titles, replayed user messages: not agentd's.
        return [];
    }
  }

  /**
   * Sends a prompt; its reply ends its turn. The turn's start is returned rather than emitted,
   * so that after a turn's end it lands in the same batch, after that end.
   */
  private start(prompt: Prompt): { events: AgentEvent[]; written: Promise<void> } {
    const turn = new ActiveTurn(prompt);
    this.turn = turn;
    this.cost.turnStarted();
    const written = this.rpc.request(
      "session/prompt",
      { sessionId: this.sessionId, prompt: [{ type: "text", text: prompt.input }] },
      (reply) => this.ended(turn, reply),
    );
    written.catch(() => {
      if (this.turn === turn) this.turn = null;
    });
    return { events: [{ type: "turn.started", turn_id: prompt.turn_id }], written };
  }

  /** The reply to a turn's `session/prompt`: the turn's end, then the next prompt's start. */
  private ended(turn: ActiveTurn, reply: Reply): AgentEvent[] {
    if (this.turn === turn) this.turn = null;
    const events = [...this.usageOf(reply), this.outcome(turn, reply)];
    const prompt = this.held.next();
    if (prompt === undefined) return events;
    const next = this.start(prompt);
    next.written.catch((error) =>
      this.host.emit([
        {
          type: "turn.failed",
          turn_id: prompt.turn_id,
          error: `prompt not delivered to the agent: ${errorMessage(error)}`,
        },
      ]),
    );
    return [...events, ...next.events];
  }

  private usageOf(reply: Reply): AgentEvent[] {
    const result = reply.ok ? reply.result : null;
    const usage = usageEvent(
      turnTokens(result),
      this.cost.turnCost(),
      resultModel(result) ?? this.model,
    );
    return usage === null ? [] : [usage];
  }

  private outcome(turn: ActiveTurn, reply: Reply): AgentEvent {
    const turn_id = turn.turnId;
    if (!reply.ok) {
      if (reply.error.body.code === REQUEST_CANCELLED) {
        return { type: "turn.cancelled", turn_id, reason: CANCELLED_REASON };
      }
      return { type: "turn.failed", turn_id, error: reply.error.body.message };
    }
    const stopReason = reply.result?.stopReason;
    switch (stopReason) {
      case "cancelled":
        return { type: "turn.cancelled", turn_id, reason: CANCELLED_REASON };
      case "refusal":
        return { type: "turn.failed", turn_id, error: "the agent refused to continue" };
      default:
        // end_turn, and the limits (max_tokens, max_turn_requests): the answer stands as given.
        return {
          type: "turn.completed",
          turn_id,
          response: turn.response(),
          metadata: { stop_reason: stopReason },
        };
    }
  }

  /** A write to the agent that nothing waits for: a failure is only worth a log line. */
  private reply(written: Promise<void>): void {
    written.catch((error) =>
      this.host.emit([log("warn", `could not answer the agent: ${errorMessage(error)}`)]),
    );
  }
}

/** JSON-RPC error code for a request that was cancelled (ACP's `$/cancel_request`). */
const REQUEST_CANCELLED = -32800;
/** ACP's error code for a method that needs `authenticate` first. */
const AUTH_REQUIRED = -32000;

function explainAuth(error: unknown, authMethods: string[]): unknown {
  if (!(error instanceof RpcCallError) || error.body.code !== AUTH_REQUIRED) return error;
  const offered = authMethods.length > 0 ? ` (it offers: ${authMethods.join(", ")})` : "";
  return new Error(
    `the agent needs to be logged in first${offered}: log in with the agent's own command, or give its API key in the agent's env`,
  );
}

function authMethodsOf(init: Json): string[] {
  if (!Array.isArray(init?.authMethods)) return [];
  return init.authMethods
    .map((method: Json) => method?.name ?? method?.id)
    .filter((name: unknown): name is string => typeof name === "string");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function log(level: "info" | "warn" | "error", message: string): AgentEvent {
  return { type: "log", level, message };
}
