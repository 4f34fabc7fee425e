import { join, resolve } from "node:path";

export const BENCH_DIR = resolve(import.meta.dir, "..");
export const REPO_ROOT = resolve(BENCH_DIR, "..");

/** An omni agent that answers at once, or with FLOOD_LINES lines to the flood prompt. */
export const FLOOD_AGENT = [process.execPath, join(BENCH_DIR, "fixtures/flood-agent.ts")];
/** A shell agent that does nothing but wait for stdin to close. */
export const IDLE_AGENT = [join(BENCH_DIR, "fixtures/idle-agent.sh")];

/** How to run a baseline program with bun. */
export function baselineProgram(name: string): string[] {
  return [process.execPath, join(BENCH_DIR, "baselines", name)];
}
