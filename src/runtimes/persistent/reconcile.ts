import type { Exit } from "../../agents/lifecycle.ts";
import { type AgentStatus, hasProcess } from "../../agents/status.ts";
import type { UnitState } from "../../systemd/systemctl.ts";

/** What agentd has recorded of a persistent agent, to be read against systemd's view. */
export interface Recorded {
  status: AgentStatus;
  restarts: number;
  pid: number | null;
  /** Its process's death was already seen while systemd waited to restart it. */
  deathSeen: boolean;
}

/** One thing to do, through the lifecycle, so that the record agrees with systemd. */
export type Step =
  | { kind: "exited"; exit: Exit }
  | { kind: "restarted"; restarts: number }
  | { kind: "update"; restarts?: number; pid?: number | null }
  | { kind: "starting"; pid: number | null }
  | { kind: "ready"; pid: number | null }
  | { kind: "stopping" };

export interface Reconciliation {
  steps: Step[];
  deathSeen: boolean;
}

/**
 * How agentd's record of a persistent agent follows what systemd says about its unit: systemd
 * decides whether the agent lives; NRestarts counts its automatic restarts since the last
 * start by hand. A pure function, so every case is a row in a table test.
 */
export function reconcile(recorded: Recorded, unit: UnitState): Reconciliation {
  const steps: Step[] = [];
  let deathSeen = recorded.deathSeen;
  let status = recorded.status;
  const died = (): void => {
    steps.push({ kind: "exited", exit: { ...unit.mainExit, stopped: false, restarting: true } });
    status = "starting";
    deathSeen = true;
  };

  if (unit.nRestarts > recorded.restarts) {
    // It died and systemd started it again; unless that death was seen while systemd waited,
    // turns open now were sent to the dead process.
    if (!deathSeen) died();
    deathSeen = false;
    steps.push({ kind: "restarted", restarts: unit.nRestarts });
  } else if (unit.nRestarts !== recorded.restarts) {
    steps.push({ kind: "update", restarts: unit.nRestarts });
  }

  switch (unit.activeState) {
    case "active":
    case "reloading":
      if (status === "running" || status === "idle") {
        if (recorded.pid !== unit.mainPid) steps.push({ kind: "update", pid: unit.mainPid });
      } else {
        steps.push({ kind: "ready", pid: unit.mainPid });
      }
      break;
    case "activating":
      if (unit.subState === "auto-restart" && !deathSeen) died();
      else if (status !== "starting") steps.push({ kind: "starting", pid: unit.mainPid });
      break;
    case "deactivating":
      if (status !== "stopping") steps.push({ kind: "stopping" });
      break;
    case "failed":
      if (status !== "failed") {
        steps.push({
          kind: "exited",
          exit: { ...unit.mainExit, stopped: false, failure: gaveUp(unit) },
        });
      }
      break;
    case "inactive":
      if (hasProcess(status)) steps.push({ kind: "exited", exit: endedQuietly(unit) });
      break;
  }
  return { steps, deathSeen };
}

/** systemd stopped restarting it: a crash loop, or a start that never worked. */
function gaveUp(unit: UnitState): string {
  const { code, signal } = unit.mainExit;
  const how = signal ? `, killed by ${signal}` : code === null ? "" : `, exit status ${code}`;
  return `the agent failed (${unit.result}${how}); systemd gave up after ${unit.nRestarts} automatic restarts`;
}

/**
 * The unit went inactive without agentd stopping it: the agent exited 0 on its own
 * (Restart=on-failure leaves that alone), or someone stopped the unit.
 */
function endedQuietly(unit: UnitState): Exit {
  const exitedCleanly = unit.mainExit.code === 0 && unit.mainExit.signal === null;
  return { ...unit.mainExit, stopped: !exitedCleanly };
}
