import { dirname } from "node:path";
import pkg from "../package.json" with { type: "json" };

// Defined by build.ts in the compiled binary, and only there.
declare const AGENTD_VERSION: string | undefined;
declare const AGENTD_COMMIT: string | null;
declare const AGENTD_BUILT_AT: string;

/**
 * What `agentd version`, `/health` and every generated file call this program. The compiled
 * binary is `VERSION+COMMIT`; from source it is the package version + "-dev".
 */
export const VERSION: string =
  typeof AGENTD_VERSION === "string" ? AGENTD_VERSION : `${pkg.version}-dev`;

/** What `agentd version --json` reports. */
export interface BuildInfo {
  version: string;
  /** The git commit built from (or checked out, from source); null when unknown. */
  commit: string | null;
  bun: string;
  /** When the binary was built (ISO 8601); null when running from source. */
  built_at: string | null;
}

export function buildInfo(): BuildInfo {
  const compiled = typeof AGENTD_VERSION === "string";
  return {
    version: VERSION,
    commit: compiled ? AGENTD_COMMIT : checkoutCommit(),
    bun: Bun.version,
    built_at: compiled ? AGENTD_BUILT_AT : null,
  };
}

/** From source, the commit of the checkout the code is in, asked of git only when wanted. */
function checkoutCommit(): string | null {
  try {
    const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], {
      cwd: dirname(import.meta.dir),
      stdout: "pipe",
      stderr: "ignore",
    });
    const hash = git.stdout.toString().trim();
    return git.exitCode === 0 && hash ? hash : null;
  } catch {
    return null;
  }
}
