import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { basename, join } from "node:path";
import { NAME_PATTERN } from "../api/names.ts";
import { errorMessage } from "../errors.ts";
import { parseEnvironmentFile } from "./environment-file.ts";
import { wordsOf } from "./original-records.ts";

/**
 * The original daemon's persistent agents: one env file per agent, `DIR/NAME.env`, read by its
 * unit template `agentd-agent@.service` (EnvironmentFile=DIR/%i.env), which runs `DIR/agentd-agent-exec`.
 */
export interface OriginalAgentFiles {
  /** config.legacyAgentsDir (`~/.config/agentd-agents`). */
  dir: string;
  /** Where the original wrote its unit template: the path agentd's own template takes. */
  unitPath: string;
}

/** What agentd needs to carry on as the original persistent agent NAME. */
export interface AdoptableAgent {
  name: string;
  provider: string;
  model: string;
  cwd: string;
  thinking: string | null;
  /** The agent program; the original started `agent` from PATH when none was set. */
  command: string[];
  extra_args: string[];
  env: Record<string, string>;
  /** The original's own AGENTD_* variables that agentd has no use for. */
  ignored: string[];
  /** Where the original kept the agent's FIFO; null when it used its default. */
  original_state_dir: string | null;
}

export type OriginalPersistentAgent =
  | { name: string; env_file: string; agent: AdoptableAgent; problem: null }
  | { name: string; env_file: string; agent: null; problem: string };

export interface MovedFile {
  from: string;
  to: string;
}

const EXEC_SCRIPT = "agentd-agent-exec";
/** Where moved files go, beside a note saying what was moved when and why. */
const MOVED_DIR = "moved-aside";
const NOTE = "MOVED.txt";

/** The variables the original's env files carry for itself (the rest is the agent's env). */
const ORIGINAL_KEYS = {
  provider: "AGENTD_PROVIDER",
  model: "AGENTD_MODEL",
  cwd: "AGENTD_CWD",
  thinking: "AGENTD_THINKING",
  extraArgs: "AGENTD_EXTRA_ARGS",
  command: "AGENTD_AGENT_COMMAND",
  stateDir: "AGENTD_STATE_DIR",
};

/** Every `NAME.env` in the original's directory, parsed, or with the reason it cannot be adopted. */
export function listOriginalPersistentAgents(dir: string): OriginalPersistentAgent[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".env"))
    .map((entry) => entry.name)
    .sort()
    .map((file) => {
      const name = file.slice(0, -".env".length);
      const env_file = join(dir, file);
      try {
        const agent = adoptableAgent(name, parseEnvironmentFile(readFileSync(env_file, "utf8")));
        return { name, env_file, agent, problem: null };
      } catch (error) {
        return { name, env_file, agent: null, problem: errorMessage(error) };
      }
    });
}

/** The config of the original persistent agent NAME from its env file's variables. */
export function adoptableAgent(name: string, env: Record<string, string>): AdoptableAgent {
  if (!NAME_PATTERN.test(name)) {
    throw new Error(
      `"${name}" cannot be an agentd name (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)`,
    );
  }
  const required = (key: string): string => {
    const value = env[key];
    if (value === undefined || value === "") throw new Error(`its env file sets no ${key}`);
    return value;
  };
  const own = new Set(Object.values(ORIGINAL_KEYS));
  const agentEnv = Object.entries(env).filter(([key]) => !key.startsWith("AGENTD_"));
  return {
    name,
    provider: required(ORIGINAL_KEYS.provider),
    model: required(ORIGINAL_KEYS.model),
    cwd: required(ORIGINAL_KEYS.cwd),
    thinking: env[ORIGINAL_KEYS.thinking] || null,
    command: [env[ORIGINAL_KEYS.command] || "agent"],
    extra_args: wordsOf(env[ORIGINAL_KEYS.extraArgs] ?? null),
    env: Object.fromEntries(agentEnv),
    ignored: Object.keys(env).filter((key) => key.startsWith("AGENTD_") && !own.has(key)),
    original_state_dir: env[ORIGINAL_KEYS.stateDir] || null,
  };
}

/**
 * Move the original's env file of NAME aside (never delete it), into `DIR/moved-aside/`, and note
 * there what was moved, when and why. Returns where it went.
 */
export function moveAgentFilesAside(
  files: OriginalAgentFiles,
  name: string,
  why: string,
): MovedFile[] {
  return moveAside(files.dir, [join(files.dir, `${name}.env`)], why);
}

/**
 * Move the original's shared files aside once no agent of its own is left: its exec script, and
 * its unit template, which stands where agentd writes its own (left alone if it is agentd's).
 */
export function moveRuntimeAside(files: OriginalAgentFiles, why: string): MovedFile[] {
  const paths = [join(files.dir, EXEC_SCRIPT)];
  if (isOriginalUnit(files)) paths.push(files.unitPath);
  return moveAside(files.dir, paths, why);
}

/** The original's template loads the env files from its own directory; agentd's does not. */
function isOriginalUnit(files: OriginalAgentFiles): boolean {
  if (!existsSync(files.unitPath)) return false;
  const unit = readFileSync(files.unitPath, "utf8");
  return unit.includes(`EnvironmentFile=${join(files.dir, "%i.env")}`);
}

function moveAside(dir: string, paths: string[], why: string): MovedFile[] {
  const target = join(dir, MOVED_DIR);
  const moved: MovedFile[] = [];
  for (const from of paths.filter((path) => existsSync(path))) {
    mkdirSync(target, { recursive: true, mode: 0o700 });
    const to = freePath(join(target, basename(from)));
    move(from, to);
    appendFileSync(
      join(target, NOTE),
      `${new Date().toISOString()} moved ${from} to ${to}: ${why}\n`,
    );
    moved.push({ from, to });
  }
  return moved;
}

function move(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    // The unit template may live on another file system than the original's directory.
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    copyFileSync(from, to);
    rmSync(from);
  }
}

/** `path`, or `path.1`, `path.2`, …: a file moved aside earlier is never overwritten. */
function freePath(path: string): string {
  let candidate = path;
  for (let n = 1; existsSync(candidate); n++) candidate = `${path}.${n}`;
  return candidate;
}
