/**
 * The status machine's states and the questions asked of them. Transitions live in
 * lifecycle.ts; everything else asks these predicates instead of listing statuses.
 *
 *   pending -> starting -> idle <-> running -> stopping -> stopped | completed | failed
 *   (lost: the process vanished while no daemon was watching)
 */
export const AGENT_STATUSES = [
  "pending",
  "starting",
  "running",
  "idle",
  "stopping",
  "stopped",
  "completed",
  "failed",
  "lost",
] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const AGENT_MODES = ["run", "persistent"] as const;
export type AgentMode = (typeof AGENT_MODES)[number];

/** A process is up and prompts reach it (queued while it starts). */
export function takesPrompts(status: AgentStatus): boolean {
  return status === "starting" || status === "running" || status === "idle";
}

/** A process exists for the agent: alive, or on its way out. */
export function hasProcess(status: AgentStatus): boolean {
  return takesPrompts(status) || status === "stopping";
}

/** The agent's process is over; nothing more will happen until it is started again. */
export function isFinished(status: AgentStatus): boolean {
  return !hasProcess(status) && status !== "pending";
}

/**
 * How an agent's tool-permission requests are answered: `ask-denied` refuses whatever would
 * need a person's yes, `allow-all` allows everything, `read-only` allows only reading.
 */
export const PERMISSION_POLICIES = ["ask-denied", "allow-all", "read-only"] as const;
export type PermissionPolicy = (typeof PERMISSION_POLICIES)[number];

/**
 * What happens when an agent's process ends without being asked to: `no`, nothing (it is
 * completed or failed); `on-failure`, it is started again after a non-zero exit or a signal;
 * `always`, after any exit. Stops by agentd or an operator are never undone (see
 * restart-policy.ts).
 */
export const RESTART_POLICIES = ["no", "on-failure", "always"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export const TURN_STATUSES = ["queued", "running", "completed", "error", "cancelled"] as const;
export type TurnStatus = (typeof TURN_STATUSES)[number];

/** Still waiting for its answer. */
export function isOpenTurnStatus(status: TurnStatus): boolean {
  return status === "queued" || status === "running";
}
