import type { PermissionPolicy } from "../agents/status.ts";

/**
 * The seam between an agent's bytes and the rest of agentd. A driver describes one wire
 * protocol; it opens one ProtocolSession per agent process. The session turns the agent's
 * output lines into AgentEvents, and prompts, cancels and replies into bytes for the agent.
 * Everything downstream of a session (turns, status, store, webhooks, SSE) sees only
 * AgentEvents.
 */

/**
 * What an agent reports, in agentd's words. A turn id names one of agentd's turns; an event
 * without one is about the oldest turn still open (agents that answer in order).
 */
export type AgentEvent =
  | { type: "turn.started"; turn_id?: string | undefined }
  | {
      type: "turn.completed";
      turn_id?: string | undefined;
      response: string | null;
      metadata?: Record<string, unknown> | undefined;
    }
  | { type: "turn.failed"; turn_id?: string | undefined; error: string }
  | { type: "turn.cancelled"; turn_id?: string | undefined; reason: string }
  | {
      type: "usage";
      input_tokens: number;
      output_tokens: number;
      /** Absent cost is unknown cost, not zero. */
      cost_micro_usd: number | null;
      model?: string | undefined;
    }
  | {
      type: "inference";
      phase: "start" | "end";
      model?: string | undefined;
      duration_ms?: number | undefined;
    }
  | { type: "tool"; phase: "call" | "result"; name: string; detail?: unknown }
  /** The agent asked to use a tool; the session answered by the agent's permission policy. */
  | {
      type: "permission";
      tool: string;
      decision: "allowed" | "denied";
      reason: string;
      detail?: unknown;
    }
  /** The CLI's own conversation id, stored so a new process can resume the conversation. */
  | { type: "session"; session_id: string }
  | { type: "log"; level: "info" | "warn" | "error"; message: string };

/** A prompt on its way to an agent. */
export interface Prompt {
  turn_id: string;
  input: string;
  metadata: Record<string, unknown> | null;
}

/** What the protocol can do, declared once per driver. */
export interface ProtocolCapabilities {
  /** agentd's turn ids travel with prompts and come back on events. */
  envelopes: boolean;
  /** A running turn can be cancelled while the agent keeps running. */
  cancel: boolean;
  /** A conversation can continue in a new process. */
  resume: boolean;
}

/** What a session may do to its agent and its record. */
export interface SessionHost {
  /** Bytes to the agent's input (stdin, or a persistent agent's FIFO), written whole and in order. */
  write(bytes: Uint8Array): Promise<void>;
  /** Events that arise outside an output line: a failed handshake, a timer. */
  emit(events: AgentEvent[]): void;
}

/** The parts of an agent's record a session works with. */
export interface SessionAgent {
  id: string;
  /** The model provider, for protocols that set it in the conversation (absent: the CLI's own). */
  provider?: string;
  cwd: string;
  model: string;
  /** The thinking level, for protocols that set it in the conversation (absent: none). */
  thinking?: string | null;
  /** Whether prompts travel with agentd's turn ids (the agent's `turn_envelope`). */
  envelopes: boolean;
  /** How the agent's own tool-permission requests are answered. */
  permissions: PermissionPolicy;
  /** The conversation to resume, when the CLI reported one before (a `session` event). */
  sessionId: string | null;
}

export interface ProtocolSession {
  /** The handshake; resolves once the agent is ready for prompts. */
  open(): Promise<void>;
  /** Deliver one prompt; resolves once it is written (not answered). */
  prompt(prompt: Prompt): Promise<void>;
  /**
   * The events one line of the agent's output means ([] for a line the protocol does not
   * know). It may answer the agent's own requests through the host.
   */
  receive(line: string): AgentEvent[];
  /** Ask the agent to abandon a turn; only called when the driver can cancel. */
  cancel(turnId: string): Promise<void>;
  /** The protocol's own goodbye, before any signal is sent. */
  close(): Promise<void>;
}

/** Arguments and environment a protocol adds to the agent's command line. */
export interface ProtocolLaunch {
  args: string[];
  env: Record<string, string>;
}

/** The parts of an agent's record its command line is made of. */
export interface LaunchAgent {
  provider: string;
  model: string;
  thinking: string | null;
  permissions: PermissionPolicy;
  /** The conversation to resume, for CLIs that take it on their command line. */
  sessionId: string | null;
  /** A persistent agent's name, for protocols that identify long-lived runs. */
  runId: string | null;
}

/**
 * Files a driver ships for its CLI to load (an extension, say): kept by agentd in a directory of
 * its own, so the command line can name them wherever and however the agent runs.
 */
export interface DriverFiles {
  /** The absolute path of `name`, written with `content` unless it already holds exactly that. */
  install(name: string, content: string): string;
}

export interface ProtocolDriver {
  readonly name: string;
  /**
   * The program when a request names none: the CLI's name; null: the daemon's
   * `--agent-command`; `required`: none, a request must name one (the text says what).
   */
  readonly command: string | null | { required: string };
  readonly capabilities: ProtocolCapabilities;
  /**
   * The protocol's arguments, placed between the command and the agent's extra args. `files`
   * is where it puts what its command line names (agentd always gives it).
   */
  launch(agent: LaunchAgent, files?: DriverFiles): ProtocolLaunch;
  /** A session for one process of the agent. */
  open(host: SessionHost, agent: SessionAgent): ProtocolSession;
}
