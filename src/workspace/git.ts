import { AgentdError, errorMessage } from "../errors.ts";

/** git failed where the input was fine; the message carries git's own explanation. */
export class GitError extends AgentdError {
  constructor(message: string) {
    super(500, "git_failed", message);
  }
}

export interface GitResult {
  code: number;
  stdout: string;
  /** git's own message, trimmed. */
  stderr: string;
}

/** Checking out or removing a huge tree takes a while; this bounds even a stuck git. */
const TIMEOUT_MS = 300_000;

/**
 * Variables that tie git to one repository (`git rev-parse --local-env-vars`): a daemon started
 * from a git hook has them set, and would otherwise send every command to that hook's repository.
 */
const REPOSITORY_VARIABLES = [
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_OBJECT_DIRECTORY",
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_IMPLICIT_WORK_TREE",
  "GIT_GRAFT_FILE",
  "GIT_INDEX_FILE",
  "GIT_NO_REPLACE_OBJECTS",
  "GIT_REPLACE_REF_BASE",
  "GIT_PREFIX",
  "GIT_INTERNAL_SUPER_PREFIX",
  "GIT_SHALLOW_FILE",
  "GIT_COMMON_DIR",
];

/**
 * Run `git -C dir ARGS` in the daemon's environment, without the variables above, without a
 * terminal prompt and with messages in English, so they can be passed on as they are.
 */
export async function runGit(dir: string, args: string[]): Promise<GitResult> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(["git", "-C", dir, ...args], {
      env: gitEnvironment(),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: TIMEOUT_MS,
    });
  } catch (error) {
    throw new GitError(`could not run git: ${errorMessage(error)}`);
  }
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const reason = proc.signalCode ? `git was killed by ${proc.signalCode}` : "";
  return { code, stdout, stderr: stderr.trim() || reason };
}

/** Run git and return its stdout; a non-zero exit is a GitError naming the command. */
export async function git(dir: string, args: string[]): Promise<string> {
  const result = await runGit(dir, args);
  if (result.code !== 0) {
    throw new GitError(
      `git -C ${dir} ${args.join(" ")} failed: ${result.stderr || `exit ${result.code}`}`,
    );
  }
  return result.stdout;
}

/** Whether `dir` is (in) a git repository git can read. */
export async function isRepository(dir: string): Promise<boolean> {
  return (await runGit(dir, ["rev-parse", "--git-dir"])).code === 0;
}

function gitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !REPOSITORY_VARIABLES.includes(key)) env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.LC_ALL = "C";
  return env;
}
