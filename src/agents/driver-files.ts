import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../errors.ts";
import type { DriverFiles } from "../protocols/session.ts";

/**
 * Driver files in `dir` (created owner-only on first use). A file is replaced whole (written
 * beside it, then renamed), so a CLI starting at that moment reads the old or the new one,
 * never half of either; one that already holds the content is left alone.
 */
export function driverFilesIn(dir: string): DriverFiles {
  return {
    install(name, content) {
      if (!/^\w[\w.-]*$/.test(name)) {
        throw new Error(`a driver file is named by a plain file name, not "${name}"`);
      }
      const path = join(dir, name);
      if (contentOf(path) === content) return path;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const draft = `${path}.${process.pid}.tmp`;
        writeFileSync(draft, content, { mode: 0o600 });
        renameSync(draft, path);
      } catch (error) {
        throw new Error(`could not write the driver file ${path}: ${errorMessage(error)}`);
      }
      return path;
    },
  };
}

function contentOf(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
