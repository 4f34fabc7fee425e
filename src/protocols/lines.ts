import { log } from "../log.ts";
import type { AgentEvent, ProtocolDriver } from "./events.ts";

/** The events in one line of an agent's output; a line the driver does not know is skipped. */
export function eventsOfLine(driver: ProtocolDriver, agentId: string, line: string): AgentEvent[] {
  const events = driver.parseLine(line);
  if (events.length === 0 && line.trim() !== "") {
    log.debug(`${agentId}: skipped a line ${driver.name} does not understand`);
  }
  return events;
}

/** The warning for an output line too long to parse (it is cut in the log). */
export function oversizeLineEvent(totalBytes: number): AgentEvent {
  return {
    type: "log",
    level: "warn",
    message: `skipped an output line of ${totalBytes} bytes (over the 16 MiB limit); it is cut in the log`,
  };
}
