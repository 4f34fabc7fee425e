import { describe } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
} from "node:fs";
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
    return await launchUserManager();
  } catch (error) {
    if (!(error instanceof SystemdUnavailable)) throw error;
    console.warn(`skipping systemd tests: ${error.message}`);
    unavailableBecause = error.message;
    return null;
  }
}

/**
 * Start a private user manager, or throw SystemdUnavailable saying why this machine cannot run
 * one; with AGENTD_REQUIRE_SYSTEMD=1 (CI) that is a plain error instead.
 */
export async function launchUserManager(): Promise<UserManager> {
  try {
    return await launch();
  } catch (error) {
    if (error instanceof SystemdUnavailable && process.env.AGENTD_REQUIRE_SYSTEMD === "1") {
      throw new Error(`AGENTD_REQUIRE_SYSTEMD=1 but no systemd user manager: ${error.message}`);
    }
    throw error;
  }
}

/** Why the last manager could not start, for the names of the tests skipped because of it. */
let unavailableBecause = "no systemd user manager";

/**
 * A describe() whose tests run only when a user manager could be started. Without one, every
 * test is still declared, and shows up in the summary as skipped with the reason.
 */
export function describeWithSystemd(
  name: string,
  manager: UserManager | null,
  body: (systemd: UserManager) => void,
): void {
  if (manager) describe(name, () => body(manager));
  else describe.skip(`${name} [skipped: ${unavailableBecause}]`, () => body(NO_MANAGER));
}

/** Stands in while skipped tests are declared; none of them runs, so nothing calls it. */
const NO_MANAGER: UserManager = {
  env: {},
  configHome: "/nonexistent",
  systemctl: () => Promise.reject(new Error("no systemd user manager")),
  stop: async () => {},
};

export class SystemdUnavailable extends Error {}

async function launch(): Promise<UserManager> {
  if (process.platform !== "linux") throw new SystemdUnavailable("not Linux");
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
  const cgroups = privateCgroups();
  // The shell joins the private cgroups, then becomes the manager (same pid).
  const joinThenExec = 'for procs in "$@"; do echo $$ > "$procs"; done; exec "$SYSTEMD" --user';
  const manager = Bun.spawn(
    ["sh", "-c", joinThenExec, "sh", ...cgroups.map((dir) => join(dir, "cgroup.procs"))],
    { env: { ...env, SYSTEMD: binary }, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const output = collect(manager);
  const cleanup = async () => {
    await stopManager(manager);
    for (const dir of cgroups) removeCgroup(dir);
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
        if (manager.exitCode !== null) throw new SystemdUnavailable(`it exited: ${output()}`);
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
    if (error instanceof SystemdUnavailable) throw error;
    throw new SystemdUnavailable(
      `${error instanceof Error ? error.message : error}; output: ${output()}`,
    );
  }
  const { HOME: _home, ...clientEnv } = env;
  return { env: clientEnv, configHome, systemctl, stop: cleanup };
}

function systemdBinary(): string {
  const systemctl = Bun.which("systemctl");
  if (!systemctl) throw new SystemdUnavailable("systemctl is not on PATH");
  const candidates = [
    join(dirname(realpathSync(systemctl)), "../lib/systemd/systemd"),
    "/usr/lib/systemd/systemd",
    "/lib/systemd/systemd",
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new SystemdUnavailable(`no systemd binary in ${candidates.join(", ")}`);
  return found;
}

/**
 * Where systemd is not PID 1 (containers, CI), the marker is missing. Only root, and only when
 * asked to (CI=true, AGENTD_TEST_SYSTEMD=1, or AGENTD_REQUIRE_SYSTEMD=1 as .ci/run sets), may
 * create it; true if this call created it.
 */
function ensureBootedMarker(): boolean {
  if (existsSync(BOOTED_MARKER)) return false;
  const allowed =
    process.env.CI === "true" ||
    process.env.AGENTD_TEST_SYSTEMD === "1" ||
    process.env.AGENTD_REQUIRE_SYSTEMD === "1";
  if (process.getuid?.() !== 0 || !allowed) {
    throw new SystemdUnavailable(
      `${BOOTED_MARKER} is missing (systemd is not PID 1); as root, set AGENTD_TEST_SYSTEMD=1 to let the tests create it`,
    );
  }
  mkdirSync(BOOTED_MARKER, { recursive: true });
  return true;
}

/**
 * A user manager puts its units under its own cgroup, and one started from a shell's cgroup
 * would share it with every other manager started from there: when one test run's manager
 * exits, it kills another's agents. Each manager gets fresh cgroups of its own (in the
 * hierarchies systemd tracks processes with); where they cannot be made, none.
 */
function privateCgroups(): string[] {
  const name = `agentd-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const made: string[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (path === undefined) continue;
    const mount =
      controllers === "name=systemd"
        ? "/sys/fs/cgroup/systemd"
        : controllers === "" && existsSync("/sys/fs/cgroup/unified/cgroup.procs")
          ? "/sys/fs/cgroup/unified"
          : controllers === ""
            ? "/sys/fs/cgroup"
            : null;
    if (mount === null) continue;
    const dir = join(mount, dirname(path), name);
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch {
      // Not allowed here (not root, read-only cgroupfs): run without isolation.
    }
  }
  return made;
}

/** A cgroup directory goes only once empty, its children first. */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // Still holds a process that outlived its manager; the kernel keeps it until that ends.
  }
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
