import { readdirSync, readFileSync } from "node:fs";

/**
 * Pids of the processes on this machine whose environment says they belong to the agent
 * (run agents get AGENTD_AGENT_ID), read straight from /proc. Zombies count: they still exist.
 */
export function processesOfAgent(agentId: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, "latin1").split("\0");
      if (environ.includes(`AGENTD_AGENT_ID=${agentId}`)) pids.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/** When the process started (clock ticks after boot), or null when there is none. */
function startOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return null;
  }
}

const strays = new Map<number, number | null>();

/**
 * Kill this process with SIGKILL at killStrays(), should the test leave it behind — only if it
 * is still the same process (its start time), never another that got its pid.
 */
export function killAtEnd(pid: number): number {
  strays.set(pid, startOf(pid));
  return pid;
}

/**
 * Kill what killAtEnd() was given. Each test file that uses it calls this in its own afterAll:
 * a helper's afterAll belongs to the first file that loads it.
 */
export function killStrays(): void {
  for (const [pid, start] of strays) {
    if (start === null || startOf(pid) !== start) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  strays.clear();
}
