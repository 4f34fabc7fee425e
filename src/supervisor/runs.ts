import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import type { AgentEvent, ProtocolDriver } from "../protocols/events.ts";
import { eventsOfLine, oversizeLineEvent } from "../protocols/lines.ts";
import { type ExitResult, RunProcess, type RunSpec } from "./run.ts";

/** What the supervisor reports about its runs: normalized events, and exits. */
export interface RunObserver {
  events(agentId: string, events: AgentEvent[]): void;
  exited(agentId: string, result: ExitResult): void;
}

/** The daemon's children: one RunProcess per running agent in `run` mode. */
export class RunSupervisor {
  private readonly runs = new Map<string, RunProcess>();

  constructor(private readonly observer: RunObserver) {}

  /** Start an agent process; throws if it cannot be started. */
  start(agentId: string, spec: RunSpec, driver: ProtocolDriver): RunProcess {
    const emit = (events: AgentEvent[]) => {
      if (events.length === 0) return;
      try {
        this.observer.events(agentId, events);
      } catch (error) {
        // A failed write (a full disk, say) loses these events, never the reader: a stalled
        // reader would block the agent on a full pipe.
        log.error(`${agentId}: could not record ${events.length} event(s): ${errorMessage(error)}`);
      }
    };
    const run = RunProcess.start(spec, {
      stdoutLine: (line) => emit(eventsOfLine(driver, agentId, line)),
      stderrLine: (line) => emit([{ type: "log", level: "info", message: `[stderr] ${line}` }]),
      oversizeLine: (bytes) => emit([oversizeLineEvent(bytes)]),
      exit: (result) => {
        this.runs.delete(agentId);
        try {
          this.observer.exited(agentId, result);
        } catch (error) {
          log.error(`${agentId}: could not record its exit: ${errorMessage(error)}`);
        }
      },
    });
    this.runs.set(agentId, run);
    return run;
  }

  get(agentId: string): RunProcess | undefined {
    return this.runs.get(agentId);
  }

  /** Stop one run; resolves once it has exited and its output is drained. */
  async stop(agentId: string, graceMs: number): Promise<ExitResult | null> {
    const run = this.runs.get(agentId);
    return run ? run.stop(graceMs) : null;
  }

  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.runs.keys()].map((id) => this.stop(id, graceMs)));
  }
}
