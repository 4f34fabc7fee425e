import type { LaunchSpec } from "../../agents/launch.ts";
import type { Config } from "../../config.ts";
import { selfCommand } from "../../self.ts";
import { renderTemplate, type TemplateName } from "../../templates/index.ts";
import { VERSION } from "../../version.ts";
import { renderEnvFile } from "./env-file.ts";
import { agentExecPath, agentUnitPath, envFilePath } from "./paths.ts";

export const RESTART_SEC = 2;
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

/** Render a built-in template with the paths this configuration resolves to. */
export function renderAsset(name: TemplateName, config: Config): string {
  return renderTemplate(name, {
    VERSION,
    ENV_DIR: unitPath(config.persistentConfigDir),
    EXEC_START: execWord(agentExecPath(config)),
    STATE_DIR: unitPath(config.stateDir),
    PATH_ENVIRONMENT: unitWord(
      `PATH=${config.systemctlEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
    ),
    RESTART_SEC: String(RESTART_SEC),
    TIMEOUT_STOP_SEC: String(TIMEOUT_STOP_SEC),
    BINARY: selfCommand().map(unitPath).join(" "),
  });
}

/** In unit files `%` starts a specifier; a literal one is written `%%`. */
function unitPath(path: string): string {
  return path.replaceAll("%", "%%");
}

/** One word of a unit setting, quoted so that spaces, quotes and backslashes stay literal. */
function unitWord(value: string): string {
  return `"${unitPath(value).replace(/["\\]/g, "\\$&")}"`;
}

/** On Exec lines `$` also expands a variable; `$$` is a literal one. */
function execWord(value: string): string {
  return unitWord(value).replaceAll("$", "$$$$");
}
