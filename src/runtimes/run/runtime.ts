import { join } from "node:path";
import { launchSpec } from "../../agents/launch.ts";
import { hasProcess } from "../../agents/status.ts";
import { shortRandom } from "../../agents/validation.ts";
import { BadRequestError, ConflictError, errorMessage } from "../../errors.ts";
import { AgentOutput } from "../../ingest/output.ts";
import { log } from "../../log.ts";
import { AgentLog } from "../../logs/agent-log.ts";
import type { Prompt } from "../../protocols/session.ts";
import { type AgentRecord, listAgents } from "../../store/agents.ts";
import { LiveSession } from "../live-session.ts";
import type { AgentRuntime, RuntimeDeps } from "../runtime.ts";
import { AgentProcess } from "./process.ts";

interface RunningAgent {
  process: AgentProcess;
  session: LiveSession;
}

/**
 * Agents as children of the daemon: they live until they exit, are stopped, or the daemon
 * stops. Prompts go to stdin; stdout and stderr come back through the agent's protocol
 * session.
 */
export class RunRuntime implements AgentRuntime {
  private readonly running = new Map<string, RunningAgent>();

  constructor(private readonly deps: RuntimeDeps) {}

  /** Runs are many and short-lived: the name is a label, the id gets a random suffix. */
  identify(name = "agent"): { id: string; name: string } {
    return { id: `${name}-${shortRandom()}`, name };
  }

  async prepare(): Promise<void> {}

  async start(agent: AgentRecord): Promise<void> {
    const { lifecycle } = this.deps;
    lifecycle.starting(agent.id);
    let running: RunningAgent;
    try {
      running = this.spawn(agent);
    } catch (error) {
      const message = `could not start ${agent.command?.[0] ?? "the agent"}: ${errorMessage(error)}`;
      lifecycle.failedToStart(agent.id, message);
      throw new BadRequestError(`agent ${agent.id} ${message}`);
    }
    try {
      await running.session.ready;
    } catch (error) {
      const message = `did not get ready: ${errorMessage(error)}`;
      this.deps.recorder.apply(agent.id, [{ type: "log", level: "error", message }]);
      await running.process.stop(this.deps.config.stopGraceMs);
      throw new ConflictError(`agent ${agent.id} ${message}`);
    }
    lifecycle.ready(agent.id, running.process.pid);
  }

  async stop(agent: AgentRecord, graceMs: number | undefined): Promise<void> {
    await this.stopRunning(agent.id, graceMs ?? this.deps.config.stopGraceMs);
  }

  async restart(agent: AgentRecord, graceMs: number | undefined): Promise<void> {
    await this.stop(agent, graceMs);
    await this.start(agent);
  }

  async deliver(agent: AgentRecord, prompt: Prompt): Promise<void> {
    await this.get(agent).session.prompt(prompt);
  }

  async cancel(agent: AgentRecord, turnId: string): Promise<void> {
    await this.get(agent).session.cancel(turnId);
  }

  /** A run takes its new config when it next starts. */
  reconfigure(): void {}

  async remove(agent: AgentRecord): Promise<void> {
    await this.stop(agent, undefined);
  }

  /** Runs recorded as alive belonged to a daemon that is gone, and died with it. */
  recover(): void {
    for (const agent of listAgents(this.deps.db, { mode: "run" })) {
      if (hasProcess(agent.status)) {
        this.deps.lifecycle.lost(agent.id, "the daemon stopped while this agent was running");
      }
    }
  }

  /** Stop every run within one grace period. */
  async shutdown(): Promise<void> {
    const grace = this.deps.config.stopGraceMs;
    await Promise.all([...this.running.keys()].map((id) => this.stopRunning(id, grace)));
  }

  private async stopRunning(id: string, graceMs: number): Promise<void> {
    const running = this.running.get(id);
    if (!running) return;
    this.deps.lifecycle.stopping(id);
    await running.session.close();
    await running.process.stop(graceMs);
  }

  private spawn(agent: AgentRecord): RunningAgent {
    const { config, recorder, protocols, lifecycle } = this.deps;
    const driver = protocols.get(agent.protocol);
    if (!driver) throw new Error(`unknown protocol "${agent.protocol}"`);
    const spec = launchSpec(agent, driver, config);
    const agentLog = new AgentLog(join(config.logRoot, agent.id, "agent.log"));
    // The session needs the process to write to, and the process's output needs the session:
    // output read before the session exists cannot happen (nothing awaits in between).
    let session: LiveSession | null = null;
    const output = new AgentOutput(
      agent.id,
      agentLog,
      (line) => session?.receive(line) ?? [],
      (batch) => recorder.apply(agent.id, batch.events),
    );
    let process: AgentProcess;
    try {
      process = AgentProcess.start(
        { argv: spec.argv, cwd: spec.cwd, env: { ...config.agentEnv, ...spec.env } },
        output,
      );
    } catch (error) {
      agentLog.close();
      throw error;
    }
    session = new LiveSession(agent, driver, (bytes) => process.write(bytes), recorder, true);
    const running = { process, session };
    this.running.set(agent.id, running);
    void process.exited.then((exit) => {
      agentLog.close();
      this.running.delete(agent.id);
      try {
        lifecycle.exited(agent.id, exit);
      } catch (error) {
        log.error(`${agent.id}: could not record its exit: ${errorMessage(error)}`);
      }
    });
    return running;
  }

  private get(agent: AgentRecord): RunningAgent {
    const running = this.running.get(agent.id);
    if (!running) throw new Error("its process is not running");
    return running;
  }
}
