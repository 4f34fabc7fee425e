import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  adoptableAgent,
  listOriginalPersistentAgents,
  moveAgentFilesAside,
  moveRuntimeAside,
  type OriginalAgentFiles,
} from "../../src/legacy/persistent-agents.ts";
import { tempDir } from "../helpers/tmp.ts";

/** What the original daemon wrote for one persistent agent (writeAgentEnvFile). */
function originalEnvFile(fields: Record<string, string>): string {
  return `${Object.entries(fields)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")}\n`;
}

const HELPER = {
  AGENTD_PROVIDER: "anthropic",
  AGENTD_MODEL: "claude-sonnet-4",
  AGENTD_CWD: "/home/ben/omni/live",
  AGENTD_THINKING: "high",
  AGENTD_EXTRA_ARGS: "--max-iter 40  --verbose",
  AGENTD_AGENT_COMMAND: "/nix/store/abc-agent/bin/agent",
  AGENTD_STATE_DIR: "/var/lib/omni/agentd-agents",
  GH_TOKEN: "ghp_x",
  AGENTD_SOMETHING_NEW: "1",
};

/** The original's layout: env files and exec script in DIR, its unit template in systemd/user. */
function originalFiles(): OriginalAgentFiles {
  const config = tempDir();
  const dir = join(config, "agentd-agents");
  mkdirSync(dir);
  mkdirSync(join(config, "systemd/user"), { recursive: true });
  const unitPath = join(config, "systemd/user/agentd-agent@.service");
  writeFileSync(join(dir, "helper.env"), originalEnvFile(HELPER));
  writeFileSync(join(dir, "bad name.env"), originalEnvFile(HELPER));
  writeFileSync(join(dir, "noprovider.env"), "AGENTD_MODEL=m\nAGENTD_CWD=/x\n");
  writeFileSync(join(dir, "agentd-agent-exec"), "#!/usr/bin/env bash\n");
  writeFileSync(
    unitPath,
    `[Service]\nEnvironmentFile=${dir}/%i.env\nExecStart=${dir}/agentd-agent-exec\n`,
  );
  return { dir, unitPath };
}

describe("the original daemon's persistent agents", () => {
  test("are listed from their env files, with what agentd needs or why one cannot be adopted", () => {
    const files = originalFiles();
    const listed = listOriginalPersistentAgents(files.dir);
    expect(listed.map((entry) => [entry.name, entry.problem])).toEqual([
      ["bad name", expect.stringContaining("cannot be an agentd name")],
      ["helper", null],
      ["noprovider", "its env file sets no AGENTD_PROVIDER"],
    ]);
    expect(listed[1]).toEqual({
      name: "helper",
      env_file: join(files.dir, "helper.env"),
      problem: null,
      agent: {
        name: "helper",
        provider: "anthropic",
        model: "claude-sonnet-4",
        cwd: "/home/ben/omni/live",
        thinking: "high",
        command: ["/nix/store/abc-agent/bin/agent"],
        extra_args: ["--max-iter", "40", "--verbose"],
        env: { GH_TOKEN: "ghp_x" },
        ignored: ["AGENTD_SOMETHING_NEW"],
        original_state_dir: "/var/lib/omni/agentd-agents",
      },
    });
  });

  test("an agent without a command ran `agent` from PATH, as the original's exec script did", () => {
    const agent = adoptableAgent("a", { AGENTD_PROVIDER: "p", AGENTD_MODEL: "m", AGENTD_CWD: "/" });
    expect(agent.command).toEqual(["agent"]);
    expect(agent.thinking).toBeNull();
    expect(agent.extra_args).toEqual([]);
    expect(agent.original_state_dir).toBeNull();
  });

  test("no directory, no agents", () => {
    expect(listOriginalPersistentAgents(join(tempDir(), "none"))).toEqual([]);
  });

  test("an adopted agent's env file is moved aside, never deleted, with a note of where", () => {
    const files = originalFiles();
    const content = readFileSync(join(files.dir, "helper.env"), "utf8");
    const moved = moveAgentFilesAside(files, "helper", "adopted by agentd");
    const to = join(files.dir, "moved-aside/helper.env");
    expect(moved).toEqual([{ from: join(files.dir, "helper.env"), to }]);
    expect(existsSync(join(files.dir, "helper.env"))).toBe(false);
    expect(readFileSync(to, "utf8")).toBe(content);
    const note = readFileSync(join(files.dir, "moved-aside/MOVED.txt"), "utf8");
    expect(note).toContain(`moved ${join(files.dir, "helper.env")} to ${to}: adopted by agentd`);
    expect(listOriginalPersistentAgents(files.dir).map((entry) => entry.name)).not.toContain(
      "helper",
    );
  });

  test("a file moved aside earlier is never overwritten", () => {
    const files = originalFiles();
    moveAgentFilesAside(files, "helper", "first");
    writeFileSync(join(files.dir, "helper.env"), "AGENTD_PROVIDER=second\n");
    const [moved] = moveAgentFilesAside(files, "helper", "second");
    expect(moved?.to).toBe(join(files.dir, "moved-aside/helper.env.1"));
    expect(readFileSync(join(files.dir, "moved-aside/helper.env"), "utf8")).toContain("anthropic");
    expect(moveAgentFilesAside(files, "helper", "nothing left")).toEqual([]);
  });

  test("the original's exec script and unit template are moved aside; agentd's own template is not", () => {
    const files = originalFiles();
    const moved = moveRuntimeAside(files, "no agent of the original is left");
    expect(moved.map((m) => m.from)).toEqual([
      join(files.dir, "agentd-agent-exec"),
      files.unitPath,
    ]);
    expect(existsSync(files.unitPath)).toBe(false);
    expect(existsSync(join(files.dir, "moved-aside/agentd-agent@.service"))).toBe(true);

    writeFileSync(files.unitPath, "[Service]\nEnvironmentFile=%h/.config/agentd/%i.env\n");
    expect(moveRuntimeAside(files, "again")).toEqual([]);
    expect(existsSync(files.unitPath)).toBe(true);
  });
});
