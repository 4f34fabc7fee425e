import type { EventData, StoredEvent } from "../api/events.ts";

/**
 * Which turn each tool call belongs to. Tool events do not name their turn: a call belongs to the
 * turn that had started and not yet ended when it happened, as the agent's events tell in order.
 */

export type ToolEvent = EventData<"tool"> & { seq: number };

/** The tool events of each turn, by turn id, from an agent's events in seq order. */
export function toolCallsByTurn(events: StoredEvent[]): Map<string, ToolEvent[]> {
  const byTurn = new Map<string, ToolEvent[]>();
  let running: string | null = null;
  for (const event of events) {
    if (event.type === "turn.started") running = event.data.turn_id;
    else if (
      event.type === "turn.completed" ||
      event.type === "turn.failed" ||
      event.type === "turn.cancelled"
    ) {
      if (event.data.turn_id === running || event.data.turn_id === null) running = null;
    } else if (event.type === "tool" && running !== null) {
      const calls = byTurn.get(running) ?? [];
      calls.push({ ...event.data, seq: event.seq });
      byTurn.set(running, calls);
    }
  }
  return byTurn;
}
