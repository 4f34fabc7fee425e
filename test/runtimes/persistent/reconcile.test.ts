import { describe, expect, test } from "bun:test";
import type { AgentStatus } from "../../../src/agents/status.ts";
import { reconcile, type Step } from "../../../src/runtimes/persistent/reconcile.ts";
import type { UnitState } from "../../../src/systemd/systemctl.ts";

const unit = (fields: Partial<UnitState>): UnitState => ({
  activeState: "active",
  subState: "running",
  mainPid: 100,
  nRestarts: 0,
  result: "success",
  mainExit: { code: 0, signal: null },
  ...fields,
});

interface Row {
  case: string;
  status: AgentStatus;
  restarts?: number;
  pid?: number | null;
  deathSeen?: boolean;
  unit: Partial<UnitState>;
  steps: Step[];
  deathSeenAfter?: boolean;
}

const ROWS: Row[] = [
  {
    case: "a running unit of an idle agent with the same pid: nothing to do",
    status: "idle",
    pid: 100,
    unit: {},
    steps: [],
  },
  {
    case: "a running unit whose main pid changed: the pid is updated",
    status: "running",
    pid: 99,
    unit: {},
    steps: [{ kind: "update", pid: 100 }],
  },
  {
    case: "a unit that came up for a starting agent: ready, with its pid",
    status: "starting",
    unit: {},
    steps: [{ kind: "ready", pid: 100 }],
  },
  {
    case: "a crashed agent waiting for systemd's restart: its process died, it is starting again",
    status: "running",
    unit: {
      activeState: "activating",
      subState: "auto-restart",
      mainPid: null,
      mainExit: { code: 3, signal: null },
    },
    steps: [
      {
        kind: "exited",
        exit: { code: 3, signal: null, stopped: false, restarting: true },
      },
    ],
    deathSeenAfter: true,
  },
  {
    case: "the same wait seen again: nothing more",
    status: "starting",
    deathSeen: true,
    unit: { activeState: "activating", subState: "auto-restart", mainPid: null },
    steps: [],
    deathSeenAfter: true,
  },
  {
    case: "restarted after its death was seen: the restart is counted, and it is ready",
    status: "starting",
    deathSeen: true,
    unit: { nRestarts: 1, mainPid: 101 },
    steps: [
      { kind: "restarted", restarts: 1 },
      { kind: "ready", pid: 101 },
    ],
    deathSeenAfter: false,
  },
  {
    case: "restarted without the death having been seen: the death first, then the restart",
    status: "idle",
    pid: 100,
    unit: { nRestarts: 1, mainPid: 101, mainExit: { code: 0, signal: null } },
    steps: [
      { kind: "exited", exit: { code: 0, signal: null, stopped: false, restarting: true } },
      { kind: "restarted", restarts: 1 },
      { kind: "ready", pid: 101 },
    ],
  },
  {
    case: "a restart count lower than recorded (a start by hand reset it): only the count",
    status: "idle",
    pid: 100,
    restarts: 3,
    unit: { nRestarts: 0 },
    steps: [{ kind: "update", restarts: 0 }],
  },
  {
    case: "systemd gave up on a crash loop: failed, saying so",
    status: "starting",
    restarts: 9,
    deathSeen: true,
    unit: {
      activeState: "failed",
      subState: "failed",
      mainPid: null,
      nRestarts: 10,
      result: "exit-code",
      mainExit: { code: 3, signal: null },
    },
    steps: [
      { kind: "restarted", restarts: 10 },
      {
        kind: "exited",
        exit: {
          code: 3,
          signal: null,
          stopped: false,
          failure:
            "the agent failed (exit-code, exit status 3); systemd gave up after 10 automatic restarts",
        },
      },
    ],
  },
  {
    case: "a failed unit of an agent already failed: nothing",
    status: "failed",
    unit: { activeState: "failed", mainPid: null },
    steps: [],
  },
  {
    case: "inactive after the agent exited 0 on its own: completed",
    status: "idle",
    unit: { activeState: "inactive", mainPid: null, mainExit: { code: 0, signal: null } },
    steps: [{ kind: "exited", exit: { code: 0, signal: null, stopped: false } }],
  },
  {
    case: "inactive after someone stopped the unit (SIGTERM): stopped",
    status: "running",
    unit: { activeState: "inactive", mainPid: null, mainExit: { code: null, signal: "SIGTERM" } },
    steps: [{ kind: "exited", exit: { code: null, signal: "SIGTERM", stopped: true } }],
  },
  {
    case: "inactive for an agent never started, or already stopped: nothing",
    status: "pending",
    unit: { activeState: "inactive", mainPid: null },
    steps: [],
  },
  {
    case: "deactivating: stopping",
    status: "idle",
    unit: { activeState: "deactivating" },
    steps: [{ kind: "stopping" }],
  },
  {
    case: "activating for an agent not known to be starting: starting",
    status: "stopped",
    unit: { activeState: "activating", subState: "start", mainPid: 102 },
    steps: [{ kind: "starting", pid: 102 }],
  },
];

describe("reconciling a persistent agent's record with its unit", () => {
  for (const row of ROWS) {
    test(row.case, () => {
      const result = reconcile(
        {
          status: row.status,
          restarts: row.restarts ?? 0,
          pid: row.pid ?? null,
          deathSeen: row.deathSeen ?? false,
        },
        unit(row.unit),
      );
      expect(result.steps).toEqual(row.steps);
      expect(result.deathSeen).toBe(row.deathSeenAfter ?? false);
    });
  }
});
