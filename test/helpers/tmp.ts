import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The directories each test file made, by file. Bun runs the files one after another in one
 * process and evaluates this module once for all of them, so an afterAll here would only ever
 * end the first file that imported it; and it runs no "exit" handlers.
 */
const createdBy = new Map<string, string[]>();

/**
 * A fresh directory, removed once its test file is done: when a later file first asks for one,
 * or when the run ends (test/setup.ts).
 */
export function tempDir(prefix = "agentd-test-"): string {
  removeTempDirs({ except: Bun.main });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dirs = createdBy.get(Bun.main) ?? [];
  dirs.push(dir);
  createdBy.set(Bun.main, dirs);
  return dir;
}

/** Remove every test file's directories, or all but those of the file still running. */
export function removeTempDirs(options: { except?: string } = {}): void {
  for (const [file, dirs] of createdBy) {
    if (file === options.except) continue;
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    createdBy.delete(file);
  }
}
