import { readdirSync, readFileSync } from "node:fs";

/** What /proc says about one process. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group and session. */
  pgid: number;
  sid: number;
  /** R, S, D, T, Z (zombie: exited, not yet collected by its parent)… */
  state: string;
  /** When it started, in clock ticks after boot (field 22): a pid with another start is another process. */
  start: number;
}

/** One process, or null when there is none with this pid (or /proc cannot be read). */
export function processInfo(pid: number): ProcessInfo | null {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/** The start time of a process (clock ticks after boot), or null when it does not exist. */
export function processStart(pid: number): number | null {
  return processInfo(pid)?.start ?? null;
}

/** True while the process with this pid is the one that started at `start` and has not exited. */
export function isAlive(pid: number, start: number | null): boolean {
  const info = processInfo(pid);
  return info !== null && info.state !== "Z" && (start === null || info.start === start);
}

/** Every process /proc lists (those that vanish while it is read are left out). */
export function listProcesses(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const processes: ProcessInfo[] = [];
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const info = processInfo(Number(name));
    if (info) processes.push(info);
  }
  return processes;
}

/**
 * The value of one variable in a process's environment (as it was when it started its
 * program); null when it has none, or its environment cannot be read (another user's, gone).
 */
export function environValue(pid: number, name: string): string | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return null;
  }
  const prefix = `${name}=`;
  const entry = environ.split("\0").find((variable) => variable.startsWith(prefix));
  return entry === undefined ? null : entry.slice(prefix.length);
}

/**
 * /proc/PID/stat: "pid (comm) state ppid pgrp session … starttime …". The command name may
 * hold spaces and parentheses, so fields are counted from the last ")".
 */
function parseStat(pid: number, stat: string): ProcessInfo | null {
  const close = stat.lastIndexOf(")");
  if (close === -1) return null;
  const fields = stat.slice(close + 2).split(" ");
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const start = Number(fields[19]);
  if (!Number.isFinite(start)) return null;
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    start,
  };
}
