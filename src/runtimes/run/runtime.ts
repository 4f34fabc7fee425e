import { launchSpec } from "../../agents/launch.ts";
import { describeExit } from "../../agents/lifecycle.ts";
import { decideRestart } from "../../agents/restart-policy.ts";
import type { RestartPolicy } from "../../agents/status.ts";
import { hasProcess } from "../../agents/status.ts";
import { shortRandom } from "../../agents/validation.ts";
import { BadRequestError, ConflictError, errorMessage } from "../../errors.ts";
import { AgentOutput, STDERR_PREFIX } from "../../ingest/output.ts";
import { log } from "../../log.ts";
import type { AgentEvent, Prompt } from "../../protocols/session.ts";
import { type AgentRecord, getAgent, listAgents } from "../../store/agents.ts";
import { setChildSubreaper } from "../libc.ts";
import { LiveSession } from "../live-session.ts";
import { isAlive } from "../procfs.ts";
import type { AgentRuntime, RuntimeDeps } from "../runtime.ts";
import { AgentProcess, type ProcessExit } from "./process.ts";
import { killAll, processesOfAgents } from "./process-tree.ts";
import { OrphanCollector } from "./subreaper.ts";

interface RunningAgent {
  process: AgentProcess;
  session: LiveSession;
  startedAt: number;
  /** Its last stderr lines: why it failed, when it fails before it got ready. */
  lastWords: string[];
}

/** How many stderr lines a start that failed quotes. */
const LAST_WORDS = 3;

/** An automatic restart waiting out its backoff. */
interface PendingRestart {
  timer: Timer;
}

/** How long the processes a dead daemon left behind may take to die of SIGKILL. */
const RECOVERY_KILL_MS = 5000;

/**
 * Agents as children of the daemon: they live until they exit, are stopped, or the daemon
 * stops, and are started again after an exit when their restart policy says so. Prompts go to
 * stdin; stdout and stderr come back through the agent's protocol session.
 */
export class RunRuntime implements AgentRuntime {
  private readonly running = new Map<string, RunningAgent>();
  private readonly pending = new Map<string, PendingRestart>();
  /** Automatic restarts in a row, per agent, for the backoff. */
  private readonly attempts = new Map<string, number>();
  private orphans: OrphanCollector | null = null;

  constructor(private readonly deps: RuntimeDeps) {}

  /** Runs are many and short-lived: the name is a label, the id gets a random suffix. */
  identify(name = "agent"): { id: string; name: string } {
    return { id: `${name}-${shortRandom()}`, name };
  }

  restartPolicy(requested: RestartPolicy | undefined): RestartPolicy {
    return requested ?? "no";
  }

  async prepare(): Promise<void> {}

  /** A start by hand: the count of automatic restarts begins again. */
  async start(agent: AgentRecord): Promise<void> {
    this.attempts.delete(agent.id);
    this.deps.lifecycle.starting(agent.id, { restarts: 0 });
    await this.launch(agent);
  }

  async stop(agent: AgentRecord, graceMs: number | undefined): Promise<void> {
    await this.stopRunning(agent.id, graceMs ?? this.deps.config.stopGraceMs);
  }

  async restart(agent: AgentRecord, graceMs: number | undefined): Promise<void> {
    await this.stop(agent, graceMs);
    await this.start(agent);
  }

  async recycle(agent: AgentRecord, reason: string): Promise<void> {
    await this.running.get(agent.id)?.process.kill(reason);
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

  /**
   * Runs recorded as alive belonged to a daemon that is gone. Whatever is left of them — the
   * recorded process (known by pid and start time), its group, anything carrying the agent's
   * id — is killed: a run cannot be re-adopted (its pipes went with the daemon), and a lost
   * agent must have no process.
   */
  async recover(): Promise<void> {
    if (!setChildSubreaper()) {
      log.warn("cannot become a child subreaper: processes agents leave behind may escape stop");
    }
    this.orphans = new OrphanCollector((pid) =>
      [...this.running.values()].some((running) => running.process.pid === pid),
    );
    const agents = listAgents(this.deps.db, { mode: "run" });
    // Finding processes reads every process's environment: not worth it for no agent at all.
    if (agents.length === 0) return;
    const leaders = new Map<number, string>();
    for (const agent of agents) {
      if (agent.pid !== null && agent.pid_start !== null && isAlive(agent.pid, agent.pid_start)) {
        leaders.set(agent.pid, agent.id);
      }
    }
    const left = processesOfAgents(new Set(agents.map((agent) => agent.id)), leaders);
    await Promise.all([...left.values()].map((processes) => killAll(processes, RECOVERY_KILL_MS)));
    for (const agent of agents) {
      const killed = left.get(agent.id)?.length ?? 0;
      if (hasProcess(agent.status)) this.deps.lifecycle.lost(agent.id, lostReason(killed));
      else if (killed > 0) log.warn(`${agent.id}: killed ${killed} process(es) it left behind`);
    }
  }

  /** Stop every run within one grace period; restarts still waiting are called off. */
  async shutdown(): Promise<void> {
    const grace = this.deps.config.stopGraceMs;
    const ids = new Set([...this.running.keys(), ...this.pending.keys()]);
    await Promise.all([...ids].map((id) => this.stopRunning(id, grace)));
    this.orphans?.stop();
  }

  private async stopRunning(id: string, graceMs: number): Promise<void> {
    if (this.cancelRestart(id)) {
      this.deps.lifecycle.stopping(id);
      this.deps.lifecycle.exited(id, { code: null, signal: null, stopped: true });
      return;
    }
    const running = this.running.get(id);
    if (!running) return;
    this.deps.lifecycle.stopping(id);
    await running.session.close();
    await running.process.stop(graceMs);
  }

  /** Start a process for the agent; resolves once it takes prompts. */
  private async launch(agent: AgentRecord): Promise<void> {
    const { lifecycle } = this.deps;
    let running: RunningAgent;
    try {
      running = this.spawn(agent);
    } catch (error) {
      const message = `could not start ${agent.command?.[0] ?? "the agent"}: ${errorMessage(error)}`;
      lifecycle.failedToStart(agent.id, message);
      throw new BadRequestError(`agent ${agent.id} ${message}`);
    }
    // A program that exits during its handshake has failed to start: no need to wait it out.
    const exitedFirst = running.process.exited.then((exit) => {
      const words = running.lastWords.length > 0 ? `: ${running.lastWords.join(" / ")}` : "";
      throw new Error(`it ${describeExit(exit)} before it was ready${words}`);
    });
    try {
      await Promise.race([running.session.ready, exitedFirst]);
    } catch (error) {
      const message = `did not get ready: ${errorMessage(error)}`;
      this.deps.recorder.apply(agent.id, [{ type: "log", level: "error", message }]);
      await running.process.stop(this.deps.config.stopGraceMs);
      throw new ConflictError(`agent ${agent.id} ${message}`);
    }
    // Stopped (or gone) while it got ready: that is what counts now.
    if (this.running.get(agent.id) !== running) return;
    lifecycle.ready(agent.id, running.process.pid, running.process.start);
  }

  private spawn(agent: AgentRecord): RunningAgent {
    const { config, recorder, protocols } = this.deps;
    const driver = protocols.get(agent.protocol);
    if (!driver) throw new Error(`unknown protocol "${agent.protocol}"`);
    const spec = launchSpec(agent, driver, config);
    // Closures that live as long as the process keep the id, not the whole record.
    const { id } = agent;
    const agentLog = this.deps.logs.open(id);
    // The session needs the process to write to, and the process's output needs the session:
    // output read before the session exists cannot happen (nothing awaits in between).
    let session: LiveSession | null = null;
    const lastWords: string[] = [];
    const output = new AgentOutput(
      agent.id,
      agentLog,
      (line) => session?.receive(line) ?? [],
      (batch) => {
        keepLastWords(lastWords, batch.events);
        recorder.applyOutput(id, batch.events);
      },
    );
    let process: AgentProcess;
    try {
      process = AgentProcess.start(
        {
          agentId: agent.id,
          argv: spec.argv,
          cwd: spec.cwd,
          env: { ...config.agentEnv, ...spec.env },
        },
        output,
      );
    } catch (error) {
      agentLog.close();
      throw error;
    }
    session = new LiveSession(agent, driver, (bytes) => process.write(bytes), recorder, true);
    const running = { process, session, startedAt: Date.now(), lastWords };
    this.running.set(agent.id, running);
    void process.exited.then((exit) => {
      agentLog.close();
      if (this.running.get(id) === running) this.running.delete(id);
      try {
        this.ended(id, exit, Date.now() - running.startedAt);
      } catch (error) {
        log.error(`${id}: could not record its exit: ${errorMessage(error)}`);
      }
    });
    return running;
  }

  /** The process ended: recorded, and started again when the agent's policy says so. */
  private ended(id: string, exit: ProcessExit, ranMs: number): void {
    const agent = getAgent(this.deps.db, id);
    if (!agent) return;
    const attemptsBefore = this.attempts.get(id) ?? 0;
    const decision = decideRestart(
      agent.restart,
      exit,
      ranMs,
      attemptsBefore,
      this.deps.config.restartBackoff,
    );
    if (!decision.restart) {
      this.attempts.delete(id);
      this.deps.lifecycle.exited(id, { ...exit, failure: decision.failure ?? exit.failure });
      return;
    }
    this.attempts.set(id, decision.attempt);
    this.deps.lifecycle.exited(id, { ...exit, restarting: true });
    this.deps.lifecycle.restarted(id, agent.restarts + 1, decision.delayMs);
    const timer = setTimeout(() => {
      this.pending.delete(id);
      void this.restartNow(id);
    }, decision.delayMs);
    this.pending.set(id, { timer });
  }

  /** The backoff is over: the agent starts again, unless it was stopped or removed meanwhile. */
  private async restartNow(id: string): Promise<void> {
    const agent = getAgent(this.deps.db, id);
    if (agent?.status !== "starting" || this.running.has(id)) return;
    try {
      await this.launch(agent);
    } catch (error) {
      log.warn(`${id}: automatic restart failed: ${errorMessage(error)}`);
    }
  }

  /** True when a restart was waiting (and now is not). */
  private cancelRestart(id: string): boolean {
    const pending = this.pending.get(id);
    if (!pending) return false;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    this.attempts.delete(id);
    return true;
  }

  private get(agent: AgentRecord): RunningAgent {
    const running = this.running.get(agent.id);
    if (!running) throw new Error("its process is not running");
    return running;
  }
}

function lostReason(killed: number): string {
  const what = "the daemon stopped while this agent was running";
  return killed === 0
    ? `${what}; its process was gone`
    : `${what}; the ${killed} process(es) it left running were killed`;
}

function keepLastWords(lastWords: string[], events: AgentEvent[]): void {
  for (const event of events) {
    if (event.type === "log" && event.message.startsWith(STDERR_PREFIX)) {
      lastWords.push(event.message.slice(STDERR_PREFIX.length));
      if (lastWords.length > LAST_WORDS) lastWords.shift();
    }
  }
}
