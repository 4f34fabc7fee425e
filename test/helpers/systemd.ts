import { describe } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { waitFor } from "./wait.ts";

/** systemd --user refuses to run unless the machine looks booted with systemd. */
const BOOTED_MARKER = "/run/systemd/system";

/**
 * A real `systemd --user` manager private to one test file: its own runtime and config
 * directories, so units, sockets and state never touch the machine's own user manager.
 */
export interface UserManager {
  /** Environment for systemctl and for daemons that should talk to this manager. */
  env: Record<string, string | undefined>;
  configHome: string;
  systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/**
 * Start a private user manager, or return null (printing why) when this machine cannot run
 * one. With AGENTD_REQUIRE_SYSTEMD=1 (CI) a manager that cannot start is an error instead.
 */
export async function startUserManager(): Promise<UserManager | null> {
  try {
    return await launch();
  } catch (error) {
    if (!(error instanceof Unavailable)) throw error;
    if (process.env.AGENTD_REQUIRE_SYSTEMD === "1") {
      throw new Error(`AGENTD_REQUIRE_SYSTEMD=1 but no systemd user manager: ${error.message}`);
    }
    console.warn(`skipping systemd tests: ${error.message}`);
    return null;
  }
}

/** A describe() whose tests run only when a user manager could be started. */
export function describeWithSystemd(
  name: string,
  manager: UserManager | null,
  body: (systemd: UserManager) => void,
): void {
  if (manager) describe(name, () => body(manager));
  else describe.skip(name, () => {});
}

class Unavailable extends Error {}

async function launch(): Promise<UserManager> {
  if (process.platform !== "linux") throw new Unavailable("not Linux");
  const binary = systemdBinary();
  const createdMarker = ensureBootedMarker();
  const root = mkdtempSync(join(tmpdir(), "agentd-systemd-"));
  const runtimeDir = join(root, "runtime");
  const configHome = join(root, "config");
  const home = join(root, "home");
  for (const dir of [runtimeDir, configHome, home]) mkdirSync(dir, { mode: 0o700 });
  const env = {
    ...process.env,
    HOME: home,
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: configHome,
    // systemctl --user then uses the manager's private socket, not some session bus.
    DBUS_SESSION_BUS_ADDRESS: undefined,
  };
  const manager = Bun.spawn([binary, "--user"], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collect(manager);
  const cleanup = async () => {
    await stopManager(manager);
    rmSync(root, { recursive: true, force: true });
    if (createdMarker) rmdirSync(BOOTED_MARKER);
  };
  const systemctl = async (...args: string[]) => {
    const proc = Bun.spawn(["systemctl", "--user", ...args], {
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };
  try {
    await waitFor(
      "systemd --user to open its private socket",
      () => {
        if (manager.exitCode !== null) throw new Unavailable(`it exited: ${output()}`);
        return existsSync(join(runtimeDir, "systemd/private"));
      },
      15_000,
    );
    await waitFor(
      "systemctl --user to answer",
      async () => (await systemctl("show", "-p", "Version")).code === 0,
    );
  } catch (error) {
    await cleanup();
    if (error instanceof Unavailable) throw error;
    throw new Unavailable(`${error instanceof Error ? error.message : error}; output: ${output()}`);
  }
  const { HOME: _home, ...clientEnv } = env;
  return { env: clientEnv, configHome, systemctl, stop: cleanup };
}

function systemdBinary(): string {
  const systemctl = Bun.which("systemctl");
  if (!systemctl) throw new Unavailable("systemctl is not on PATH");
  const candidates = [
    join(dirname(realpathSync(systemctl)), "../lib/systemd/systemd"),
    "/usr/lib/systemd/systemd",
    "/lib/systemd/systemd",
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Unavailable(`no systemd binary in ${candidates.join(", ")}`);
  return found;
}

/**
 * Where systemd is not PID 1 (containers, CI), the marker is missing. Only root, and only when
 * asked to (CI=true or AGENTD_TEST_SYSTEMD=1), may create it; true if this call created it.
 */
function ensureBootedMarker(): boolean {
  if (existsSync(BOOTED_MARKER)) return false;
  const allowed = process.env.CI === "true" || process.env.AGENTD_TEST_SYSTEMD === "1";
  if (process.getuid?.() !== 0 || !allowed) {
    throw new Unavailable(
      `${BOOTED_MARKER} is missing (systemd is not PID 1); as root, set AGENTD_TEST_SYSTEMD=1 to let the tests create it`,
    );
  }
  mkdirSync(BOOTED_MARKER, { recursive: true });
  return true;
}

/** SIGTERM makes a user manager stop its units and exit; SIGKILL if it hangs. */
async function stopManager(manager: Subprocess): Promise<void> {
  if (manager.exitCode !== null || manager.signalCode !== null) return;
  manager.kill("SIGTERM");
  const hung = setTimeout(() => manager.kill("SIGKILL"), 15_000);
  await manager.exited;
  clearTimeout(hung);
}

function collect(proc: Subprocess<"ignore", "pipe", "pipe">): () => string {
  let text = "";
  const decoder = new TextDecoder();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  void read(proc.stdout);
  void read(proc.stderr);
  return () => text.trim();
}
