import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { REPO_ROOT } from "./paths.ts";

/** Where and on what the numbers were taken. */
export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  os: string;
  kernel: string;
  bun: string;
  agentd: string;
  commit: string;
}

export function describeMachine(agentd: string[]): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    os: osName(),
    kernel: release(),
    bun: Bun.version,
    agentd: output([...agentd, "version"]),
    commit: output(["git", "-C", REPO_ROOT, "describe", "--always", "--dirty"]),
  };
}

export function formatMachine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB; ${machine.os}, Linux ${machine.kernel}; Bun ${machine.bun}; ${machine.agentd} (${machine.commit})`;
}

function osName(): string {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

function output(argv: string[]): string {
  const result = Bun.spawnSync(argv, { stderr: "ignore" });
  return result.exitCode === 0 ? result.stdout.toString().trim() : "unknown";
}
