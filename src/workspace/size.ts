import { existsSync } from "node:fs";
import { errorMessage } from "../errors.ts";

export type SizeMeasurement =
  | { state: "measured"; bytes: number }
  /** The directory is not there. */
  | { state: "missing" }
  /** It took longer than allowed (or was cancelled); the walk was stopped. */
  | { state: "unfinished" }
  | { state: "failed"; error: string };

export interface MeasureOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * The disk space a directory tree takes, in bytes. `du` walks the tree in its own process, so a
 * huge tree costs the daemon nothing but a wait, and is killed when it outlasts `timeoutMs`.
 * `-x` stays on this file system: a mount inside a workspace is not the workspace's.
 * Unreadable subdirectories are skipped (du still prints the total of the rest).
 */
export async function measureSize(path: string, options: MeasureOptions): Promise<SizeMeasurement> {
  if (!existsSync(path)) return { state: "missing" };
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(["du", "-s", "-x", "--block-size=1", "--", path], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: options.timeoutMs,
      killSignal: "SIGKILL",
      signal: options.signal,
    });
  } catch (error) {
    return { state: "failed", error: `could not run du: ${errorMessage(error)}` };
  }
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (proc.signalCode !== null) return { state: "unfinished" };
  const bytes = Number(stdout.split("\t")[0]);
  if (stdout !== "" && Number.isSafeInteger(bytes)) return { state: "measured", bytes };
  if (!existsSync(path)) return { state: "missing" };
  return { state: "failed", error: stderr.trim() || `du exited with ${proc.exitCode}` };
}
