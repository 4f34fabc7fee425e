import { writeSync } from "node:fs";

/** One line per message on stderr: `2026-01-01T00:00:00.000Z INFO message`. */
type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = "info";

export function setLogLevel(level: Level): void {
  threshold = level;
}

export function isLogLevel(value: string): value is Level {
  return value in ORDER;
}

function write(level: Level, message: string): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`;
  try {
    // Straight to the descriptor: process.stderr would load Node's stream machinery at start.
    writeSync(2, line);
  } catch {
    // A non-blocking stderr that is full: let the stream queue it.
    process.stderr.write(line);
  }
}

export const log = {
  /** Whether messages of this level are written: to skip building ones that would not be. */
  enabled: (level: Level) => ORDER[level] >= ORDER[threshold],
  debug: (message: string) => write("debug", message),
  info: (message: string) => write("info", message),
  warn: (message: string) => write("warn", message),
  error: (message: string) => write("error", message),
};
