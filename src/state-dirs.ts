import { statSync } from "node:fs";
import { dirname } from "node:path";
import type { Config } from "./config.ts";

/** The directories holding the daemon's state and secrets: database, logs, workspaces, FIFOs, env files. */
export function stateDirectories(config: Config): string[] {
  return [
    dirname(config.dbPath),
    config.logRoot,
    config.workspaceRoot,
    config.stateDir,
    config.persistentConfigDir,
  ];
}

/**
 * One warning per state directory someone else can write to: they could replace the database,
 * plant a FIFO or a symlink where agentd writes, or read what agents left. agentd creates its
 * directories owner-only; these were made looser by someone else, or given on purpose.
 */
export function stateDirectoryWarnings(config: Config, uid = process.getuid?.() ?? 0): string[] {
  const warnings: string[] = [];
  for (const dir of new Set(stateDirectories(config))) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(dir);
    } catch {
      continue; // not made yet: agentd makes it owner-only when it needs it
    }
    const mode = Number(stat.mode) & 0o7777;
    if ((mode & 0o022) !== 0) {
      warnings.push(
        `state directory ${dir} is writable by ${mode & 0o002 ? "everyone" : "its group"} (mode ${mode.toString(8).padStart(4, "0")}): others could replace agentd's files there; make it owner-only (chmod 700 ${dir}) or move agentd's state elsewhere`,
      );
    } else if (Number(stat.uid) !== uid && Number(stat.uid) !== 0) {
      warnings.push(
        `state directory ${dir} belongs to uid ${stat.uid}, not to this daemon's user (uid ${uid}): its owner can change anything in it; use a directory of your own`,
      );
    }
  }
  return warnings;
}
