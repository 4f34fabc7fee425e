/** What every CLI setup shares: where the pinned CLIs are, and an environment of their own. */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** A CLI ready to start: its executable, its working directory and its whole environment. */
export interface CliSetup {
  name: string;
  /** The executable (absolute path), before any protocol arguments. */
  command: string[];
  /** The directory the CLI works in (a fresh, empty project directory). */
  cwd: string;
  /** HOME, holding every config and state directory the CLI writes. */
  home: string;
  /** The CLI's complete environment: nothing is inherited from the test process but PATH. */
  env: Record<string, string>;
}

const BIN = join(import.meta.dir, "../node_modules/.bin");

/** The pinned CLI's executable; fails with what to run when interop's packages are missing. */
export function installedBinary(name: string): string {
  const path = join(BIN, name);
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: run \`bun run test:interop\` (or \`bun install\` in interop/)`,
    );
  }
  return path;
}

/**
 * A fresh HOME and project directory under `dir`, and an environment that points every XDG
 * directory into that HOME, so nothing from the host's own CLI configuration leaks in.
 */
export function isolatedEnvironment(dir: string): Pick<CliSetup, "cwd" | "home" | "env"> {
  const home = join(dir, "home");
  const cwd = join(dir, "project");
  const tmp = join(dir, "tmp");
  for (const path of [home, cwd, tmp]) mkdirSync(path, { recursive: true });
  return {
    home,
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: home,
      USER: "interop",
      LANG: "C.UTF-8",
      TERM: "dumb",
      NO_COLOR: "1",
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local/share"),
      XDG_STATE_HOME: join(home, ".local/state"),
      XDG_CACHE_HOME: join(home, ".cache"),
    },
  };
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
