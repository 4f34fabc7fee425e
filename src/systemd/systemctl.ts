import { constants } from "node:os";
import type { ServiceScope } from "../config.ts";
import { AgentdError, errorMessage } from "../errors.ts";

/** systemctl failed; the message carries its own explanation. */
export class SystemctlError extends AgentdError {
  constructor(message: string) {
    super(500, "systemctl_failed", message);
  }
}

/** What `systemctl show` says about one unit. */
export interface UnitState {
  activeState: string;
  subState: string;
  /** null when no main process runs. */
  mainPid: number | null;
  /** Automatic restarts since the unit was last started by hand. */
  nRestarts: number;
  /** Why the unit last stopped: "success", "exit-code", "signal", … */
  result: string;
  /** How its last main process ended: an exit code, or the signal that killed it. */
  mainExit: { code: number | null; signal: string | null };
}

const SHOWN = [
  "Id",
  "ActiveState",
  "SubState",
  "MainPID",
  "NRestarts",
  "Result",
  "ExecMainCode",
  "ExecMainStatus",
];
/** ExecMainCode: the si_code of the main process's end (CLD_EXITED, CLD_KILLED, CLD_DUMPED). */
const CLD_EXITED = 1;
/** Stopping waits for TimeoutStopSec and then SIGKILL; this bounds even a stuck manager. */
const TIMEOUT_MS = 60_000;

/**
 * `systemctl --user`, talking to the user manager the configured environment points at (or,
 * for `agentd install --system`, the system manager).
 */
export class Systemctl {
  constructor(
    private readonly env: Record<string, string>,
    private readonly scope: ServiceScope = "user",
  ) {}

  async daemonReload(): Promise<void> {
    await this.run(["daemon-reload"]);
  }

  async start(unit: string): Promise<void> {
    await this.run(["start", unit]);
  }

  async stop(unit: string): Promise<void> {
    await this.run(["stop", unit]);
  }

  async restart(unit: string): Promise<void> {
    await this.run(["restart", unit]);
  }

  /** Send a signal to the unit's processes. */
  async kill(unit: string, signal: NodeJS.Signals): Promise<void> {
    await this.run(["kill", `--signal=${signal}`, unit]);
  }

  /** Start it at boot (or login) from now on, and now. */
  async enableNow(unit: string): Promise<void> {
    await this.run(["enable", "--now", unit]);
  }

  async disableNow(unit: string): Promise<void> {
    await this.run(["disable", "--now", unit]);
  }

  /** Forget a failed state, so a removed agent leaves nothing listed behind. */
  async resetFailed(unit: string): Promise<void> {
    await this.run(["reset-failed", unit]);
  }

  async show(units: string[]): Promise<Map<string, UnitState>> {
    const states = new Map<string, UnitState>();
    if (units.length === 0) return states;
    const output = await this.run(["show", `--property=${SHOWN.join(",")}`, "--", ...units]);
    for (const block of output.split(/\n\s*\n/)) {
      const fields = parseProperties(block);
      const id = fields.get("Id");
      if (id) states.set(id, unitState(fields));
    }
    return states;
  }

  private async run(args: string[]): Promise<string> {
    const command = ["systemctl", `--${this.scope}`, ...args];
    let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
    try {
      proc = Bun.spawn(command, {
        env: this.env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout: TIMEOUT_MS,
      });
    } catch (error) {
      throw new SystemctlError(`could not run systemctl: ${errorMessage(error)}`);
    }
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) {
      const reason =
        stderr.trim() || (proc.signalCode ? `killed by ${proc.signalCode}` : `exit ${code}`);
      throw new SystemctlError(`${command.join(" ")} failed: ${reason}`);
    }
    return stdout;
  }
}

function parseProperties(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}

function unitState(fields: Map<string, string>): UnitState {
  const mainPid = Number(fields.get("MainPID") ?? 0);
  return {
    activeState: fields.get("ActiveState") ?? "unknown",
    subState: fields.get("SubState") ?? "unknown",
    mainPid: mainPid > 0 ? mainPid : null,
    nRestarts: Number(fields.get("NRestarts") ?? 0) || 0,
    result: fields.get("Result") ?? "unknown",
    mainExit: mainExit(fields.get("ExecMainCode"), fields.get("ExecMainStatus")),
  };
}

function mainExit(code: string | undefined, status: string | undefined): UnitState["mainExit"] {
  const number = status === undefined || status === "" ? null : Number(status);
  if (number === null || Number(code) === CLD_EXITED || !code || Number(code) === 0) {
    return { code: number, signal: null };
  }
  return { code: null, signal: signalName(number) };
}

function signalName(number: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === number);
  return entry ? entry[0] : `signal ${number}`;
}
