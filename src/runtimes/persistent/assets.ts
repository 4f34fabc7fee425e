import type { LaunchSpec } from "../../agents/launch.ts";
import type { Config } from "../../config.ts";
import { execWord, unitPath, unitQuoted } from "../../systemd/unit-syntax.ts";
import { renderTemplate, type TemplateName } from "../../templates/index.ts";
import { VERSION } from "../../version.ts";
import { renderEnvFile } from "./env-file.ts";
import { agentExecPath, agentUnitPath, envFilePath } from "./paths.ts";

export const RESTART_SEC = 2;
/**
 * Where programs live besides the daemon's PATH, as in the original's unit: the user's Nix
 * profile, NixOS's system profile, local installs. `%h` is the user's home, expanded by systemd.
 */
export const UNIT_PATH_EXTRAS = [
  "%h/.nix-profile/bin",
  "/run/current-system/sw/bin",
  "/usr/local/bin",
];
const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";
export const TIMEOUT_STOP_SEC = 10;

/** A file agentd writes for persistent agents: where, what, and with which permissions. */
export interface GeneratedFile {
  path: string;
  content: string;
  mode: number;
}

/** The unit template and exec script every persistent agent shares. */
export function sharedFiles(config: Config): GeneratedFile[] {
  return [
    {
      path: agentUnitPath(config),
      content: renderAsset("agentd-agent@.service", config),
      mode: 0o644,
    },
    { path: agentExecPath(config), content: renderAsset("agent-exec.sh", config), mode: 0o755 },
  ];
}

/** One agent's env file, owner-only: it may hold secrets passed in the agent's env. */
export function agentEnvFile(config: Config, name: string, launch: LaunchSpec): GeneratedFile {
  const content = renderEnvFile({
    name,
    version: VERSION,
    cwd: launch.cwd,
    argv: launch.argv,
    env: launch.env,
    stateDir: config.stateDir,
  });
  return { path: envFilePath(config, name), content, mode: 0o600 };
}

/** The templates of persistent agents' files (agentd.service is `agentd install`'s). */
export type AgentAssetName = Exclude<TemplateName, "agentd.service">;

/**
 * The agents' PATH as a unit file says it: the daemon's directories first (`%` escaped), then
 * those of UNIT_PATH_EXTRAS it lacks (their specifiers kept), each directory once.
 */
export function unitSearchPath(daemonPath: string | undefined): string {
  const own = (daemonPath || FALLBACK_PATH).split(":").filter((dir) => dir !== "");
  const dirs = [...new Set(own.map(unitPath))];
  for (const extra of UNIT_PATH_EXTRAS) if (!dirs.includes(extra)) dirs.push(extra);
  return dirs.join(":");
}

/** Render a built-in template with the paths this configuration resolves to. */
export function renderAsset(name: AgentAssetName, config: Config): string {
  return renderTemplate(name, {
    VERSION,
    ENV_DIR: unitPath(config.persistentConfigDir),
    EXEC_START: execWord(agentExecPath(config)),
    STATE_DIR: unitPath(config.stateDir),
    PATH_ENVIRONMENT: unitQuoted(`PATH=${unitSearchPath(config.systemctlEnv.PATH)}`),
    RESTART_SEC: String(RESTART_SEC),
    TIMEOUT_STOP_SEC: String(TIMEOUT_STOP_SEC),
  });
}
