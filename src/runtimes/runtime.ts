import type { Database } from "bun:sqlite";
import type { AgentLifecycle } from "../agents/lifecycle.ts";
import type { AgentRecorder } from "../agents/recorder.ts";
import type { RestartPolicy } from "../agents/status.ts";
import type { Config } from "../config.ts";
import type { AgentLogs } from "../logs/agent-logs.ts";
import type { ProtocolRegistry } from "../protocols/index.ts";
import type { Prompt } from "../protocols/session.ts";
import type { AgentRecord, NewAgent } from "../store/agents.ts";

/** `force`: overwrite generated files even where they were edited by hand. */
export interface WriteOptions {
  force: boolean;
}

/**
 * Owns agents' processes: where they run, how they start and stop, how bytes reach them and
 * how their output comes back. Two implementations — `run` (children of the daemon) and
 * `persistent` (systemd user units) — and the service picks one per agent, once. Status
 * changes go through the lifecycle; output goes through a protocol session to the recorder.
 */
export interface AgentRuntime {
  /** A new agent's id and name, from the name asked for (already checked), if any. */
  identify(name: string | undefined): { id: string; name: string };
  /** The restart policy an agent gets when it asks for `requested`; throws for one it cannot keep. */
  restartPolicy(requested: RestartPolicy | undefined): RestartPolicy;
  /** Make room for a new agent (its files, say); throws leaving nothing behind. */
  prepare(agent: NewAgent, options: WriteOptions): Promise<void>;
  /** Start its process; resolves once it takes prompts. */
  start(agent: AgentRecord, options: WriteOptions): Promise<void>;
  /** Stop its process; resolves once it is gone. `graceMs` applies where signals are ours. */
  stop(agent: AgentRecord, graceMs: number | undefined): Promise<void>;
  restart(agent: AgentRecord, graceMs: number | undefined, options: WriteOptions): Promise<void>;
  /** Kill its process as a failure (`reason`): what follows is up to its restart policy. */
  recycle(agent: AgentRecord, reason: string): Promise<void>;
  deliver(agent: AgentRecord, prompt: Prompt): Promise<void>;
  cancel(agent: AgentRecord, turnId: string): Promise<void>;
  /** Its config changed: whatever holds that config outside the database is rewritten. */
  reconfigure(agent: AgentRecord, options: WriteOptions): void;
  /** Stop it and remove what the runtime made for it; the caller removes its records. */
  remove(agent: AgentRecord): Promise<void>;
  /** At daemon start: take over (or account for) the agents a previous daemon left. */
  recover(): Promise<void>;
  /** At daemon stop. */
  shutdown(): Promise<void>;
}

export interface RuntimeDeps {
  config: Config;
  db: Database;
  lifecycle: AgentLifecycle;
  recorder: AgentRecorder;
  protocols: ProtocolRegistry;
  logs: AgentLogs;
}
