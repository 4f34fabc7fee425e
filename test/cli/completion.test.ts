import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnFake } from "../helpers/agents.ts";
import { MAIN, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/**
 * Each script is loaded into its real shell and asked for completions, as the shell would ask
 * while someone types; agent ids come from a live daemon through `agentd ls -q`.
 */

let daemon: TestDaemon;
let agentId: string;
/** A directory holding `agentd` (this source tree) and the scripts. */
const bin = tempDir("agentd-completion-");
const agentd = join(bin, "agentd");

beforeAll(async () => {
  daemon = await startDaemon();
  agentId = (await spawnFake(daemon, { name: "completable", start: false })).id;
  writeFileSync(agentd, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(agentd, 0o755);
  for (const shell of ["bash", "zsh", "fish"]) {
    const { stdout, code } = await runCli(["completion", shell]);
    expect(code).toBe(0);
    writeFileSync(join(bin, `agentd.${shell}`), stdout);
  }
});

afterAll(stopAllDaemons);

/** Run `script` in `shell` with the daemon's address and `agentd` on the PATH; its lines. */
async function inShell(shell: string, script: string): Promise<string[]> {
  const proc = Bun.spawn([shell, "-c", script], {
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      AGENTD_URL: daemon.url,
      HOME: bin,
      XDG_CONFIG_HOME: bin,
    },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect({ stderr, code }).toEqual({ stderr: "", code: 0 });
  return stdout.split("\n").filter((line) => line !== "");
}

const hasShell = (name: string) => Bun.which(name) !== null;

describe("bash", () => {
  /** What completing the last of `words` offers. */
  const complete = (...words: string[]) =>
    inShell(
      "bash",
      `source ${bin}/agentd.bash
       COMP_WORDS=(${[agentd, ...words].map((w) => `'${w}'`).join(" ")})
       COMP_CWORD=${words.length}
       _agentd
       printf '%s\\n' "\${COMPREPLY[@]}"`,
    );

  test("completes commands, each command's flags, and live agent ids where an agent goes", async () => {
    expect(await complete("sh")).toEqual(["show"]);
    expect(await complete("co")).toEqual(["cost", "completion"]);
    expect(await complete("spawn", "--na")).toEqual(["--name"]);
    expect(await complete("logs", "-")).toContain("--follow");
    expect(await complete("show", "")).toEqual([agentId]);
    expect(await complete("send", "comp")).toEqual([agentId]);
    expect(await complete("rm", agentId, "")).toEqual([agentId]);
    expect(await complete("completion", "")).toEqual(["bash", "zsh", "fish"]);
  });

  test("offers no agent where a flag's value or a later argument goes", async () => {
    expect(await complete("logs", "--tail", "")).toEqual([]);
    expect(await complete("send", agentId, "")).toEqual([]);
  });
});

describe.skipIf(!hasShell("zsh"))("zsh", () => {
  // compadd and _describe are the completion system's; outside it they print what they are given.
  const complete = (...words: string[]) =>
    inShell(
      "zsh",
      `compadd() { shift $(( \${@[(i)--]} )); print -l -- "$@"; }
       _describe() { local -a offered=("\${(@P)2}"); print -l -- "\${offered[@]%%:*}"; }
       compdef() { print -r -- "compdef $*" >&2; }
       source ${bin}/agentd.zsh 2>/dev/null
       words=(${[agentd, ...words].map((w) => `'${w}'`).join(" ")})
       CURRENT=${words.length + 1}
       _agentd`,
    );

  test("completes commands, flags and live agent ids", async () => {
    expect(await complete("")).toContain("spawn");
    expect(await complete("spawn", "-")).toContain("--budget-usd");
    expect(await complete("stop", "")).toEqual([agentId]);
    expect(await complete("logs", "--tail", "")).toEqual([]);
    expect(await complete("completion", "")).toEqual(["bash", "zsh", "fish"]);
  });
});

describe.skipIf(!hasShell("fish"))("fish", () => {
  const complete = async (line: string) =>
    (await inShell("fish", `source ${bin}/agentd.fish; complete -C '${line}'`)).map(
      (entry) => entry.split("\t")[0],
    );

  test("completes commands, flags and live agent ids", async () => {
    expect(await complete("agentd sh")).toEqual(["show"]);
    expect(await complete("agentd spawn --bud")).toEqual(["--budget-usd"]);
    expect(await complete("agentd show ")).toEqual([agentId]);
    expect(await complete("agentd completion ")).toEqual(["bash", "fish", "zsh"]);
  });
});
