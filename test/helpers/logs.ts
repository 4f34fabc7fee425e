import { AgentLog, type LogLimits } from "../../src/logs/agent-log.ts";

/** An agent log for tests, with what it reported about trouble writing it kept in `trouble`. */
export function testLog(path: string, limits: LogLimits = { maxBytes: 1 << 30, keep: 3 }) {
  const trouble: string[] = [];
  const log = new AgentLog(path, limits, {
    failed: (_log, error) => trouble.push(`failed: ${error}`),
    recovered: (_log, lost) => trouble.push(`recovered: ${lost} lost`),
    closedFailing: (_log, lost) => trouble.push(`closed: ${lost} lost`),
  });
  return { log, trouble };
}
