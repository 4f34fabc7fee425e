import { setDefaultTimeout } from "bun:test";

/**
 * Called at the top of each test file: a test drives real CLIs through several model calls on a
 * shared, slow machine. (Not a bunfig preload: in Bun 1.4.5 a preload's setDefaultTimeout reaches
 * only the first test file of a run.)
 */
export function useCliTestTimeout(): void {
  setDefaultTimeout(120_000);
}
