import type { AgentRecorder } from "../agents/recorder.ts";
import type { AgentEvent, Prompt, ProtocolDriver, ProtocolSession } from "../protocols/session.ts";
import type { AgentRecord } from "../store/agents.ts";

/** How long a protocol's handshake or goodbye may take before agentd gives up on it. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
export const GOODBYE_TIMEOUT_MS = 5_000;

/**
 * A protocol session bound to one process of an agent: prompts and cancels wait for the
 * handshake, and events the session raises on its own reach the recorder.
 */
export class LiveSession {
  readonly session: ProtocolSession;
  /** Settles when the handshake is over; rejects when it failed. */
  readonly ready: Promise<void>;

  constructor(
    agent: AgentRecord,
    driver: ProtocolDriver,
    write: (bytes: Uint8Array) => Promise<void>,
    recorder: Pick<AgentRecorder, "apply">,
    /** False: the process was already talking to an earlier session (a daemon restart). */
    handshake: boolean,
  ) {
    // The closure keeps the id only: a record held for the life of every process adds up.
    const { id } = agent;
    const emit = (events: AgentEvent[]) => recorder.apply(id, events);
    this.session = driver.open(
      { write, emit },
      {
        id: agent.id,
        provider: agent.provider,
        cwd: agent.cwd,
        model: agent.model,
        thinking: agent.thinking,
        envelopes: agent.turn_envelope,
        permissions: agent.permissions,
        sessionId: agent.session_id,
      },
    );
    this.ready = handshake
      ? withTimeout(this.session.open(), HANDSHAKE_TIMEOUT_MS, `${driver.name} handshake`)
      : Promise.resolve();
    // Whoever waits on `ready` sees the failure; nobody waiting must not crash the daemon.
    this.ready.catch(() => {});
  }

  /** The line reader for this process's output. */
  receive = (line: string): AgentEvent[] => this.session.receive(line);

  async prompt(prompt: Prompt): Promise<void> {
    await this.ready;
    await this.session.prompt(prompt);
  }

  async cancel(turnId: string): Promise<void> {
    await this.ready;
    await this.session.cancel(turnId);
  }

  /** The protocol's goodbye; a failing or slow one only delays the signals a little. */
  async close(): Promise<void> {
    try {
      await withTimeout(this.session.close(), GOODBYE_TIMEOUT_MS, "goodbye");
    } catch {
      // The process is about to be signalled anyway.
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
