import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const NEWLINE = Buffer.from("\n");

/** Appends lines to an agent's log file; failures to write are reported once, never fatal. */
export class AgentLog {
  private fd: number | null;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, "a", 0o600);
  }

  write(prefix: string, bytes: Uint8Array | string): void {
    if (this.fd === null) return;
    try {
      const body = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
      writeSync(this.fd, Buffer.concat([Buffer.from(prefix), body, NEWLINE]));
    } catch {
      // A full disk must not take the agent down with it; the events still reach the database.
    }
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
