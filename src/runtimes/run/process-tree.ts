import { environValue, listProcesses, type ProcessInfo, processInfo } from "../procfs.ts";
import { collectOrphan } from "./subreaper.ts";

/**
 * Every run agent's process gets its agent's id in this variable, and its descendants inherit
 * it: a process that left the agent's group and session (setsid) and lost its parent (a double
 * fork) is still known as the agent's.
 */
export const AGENT_ID_VARIABLE = "AGENTD_AGENT_ID";

const POLL_MS = 10;

/**
 * The processes of one agent that still exist: everything in the process group and session
 * the agent's process leads (`leader`: its pid, when it is known to be the agent's), everything
 * carrying the agent's id in its environment, and every descendant of those. Never this
 * daemon.
 */
export function agentProcesses(agentId: string, leader: number | null): ProcessInfo[] {
  const leaders = new Map(leader === null ? [] : [[leader, agentId]]);
  return processesOfAgents(new Set([agentId]), leaders).get(agentId) ?? [];
}

/** agentProcesses for many agents at once, with one look at /proc. */
export function processesOfAgents(
  agentIds: ReadonlySet<string>,
  leaders: ReadonlyMap<number, string>,
): Map<string, ProcessInfo[]> {
  const table = listProcesses().filter((info) => info.pid !== process.pid && info.pid !== 1);
  const owner = new Map<number, string>();
  for (const info of table) {
    const id =
      leaders.get(info.pgid) ?? leaders.get(info.sid) ?? environValue(info.pid, AGENT_ID_VARIABLE);
    if (id !== null && id !== undefined && agentIds.has(id)) owner.set(info.pid, id);
  }
  addDescendants(table, owner);
  const byAgent = new Map<string, ProcessInfo[]>();
  for (const info of table) {
    const id = owner.get(info.pid);
    if (id === undefined) continue;
    const list = byAgent.get(id);
    if (list) list.push(info);
    else byAgent.set(id, [info]);
  }
  return byAgent;
}

/** Send `signal` to each process; those already gone are skipped. */
export function signalEach(processes: readonly ProcessInfo[], signal: NodeJS.Signals): void {
  for (const info of processes) {
    try {
      process.kill(info.pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/**
 * Wait (at most `ms`) until none of the processes runs any more, collecting the ones the
 * daemon adopted as they exit; true when all are gone. Not for a child Bun spawned: Bun
 * collects those itself.
 */
export async function awaitGone(processes: readonly ProcessInfo[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const remaining = processes.filter(stillRuns);
    if (remaining.length === 0) return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(POLL_MS);
  }
}

/** An exited process is collected when it is the daemon's own to collect. */
function stillRuns(info: ProcessInfo): boolean {
  const now = processInfo(info.pid);
  if (now === null || now.start !== info.start) return false;
  if (now.state !== "Z") return true;
  collectOrphan(info.pid);
  return false;
}

/** Kill them with SIGKILL and wait (at most `ms`) until they are gone. */
export async function killAll(processes: readonly ProcessInfo[], ms: number): Promise<boolean> {
  signalEach(processes, "SIGKILL");
  return awaitGone(processes, ms);
}

/** A process's descendants belong to whoever it belongs to. */
function addDescendants(table: readonly ProcessInfo[], owner: Map<number, string>): void {
  const children = new Map<number, ProcessInfo[]>();
  for (const info of table) {
    const siblings = children.get(info.ppid);
    if (siblings) siblings.push(info);
    else children.set(info.ppid, [info]);
  }
  const queue = [...owner.keys()];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    const id = owner.get(pid) as string;
    for (const child of children.get(pid) ?? []) {
      if (owner.has(child.pid)) continue;
      owner.set(child.pid, id);
      queue.push(child.pid);
    }
  }
}
