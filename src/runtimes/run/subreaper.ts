import { collectChild } from "../libc.ts";
import { listProcesses, processInfo } from "../procfs.ts";

/** SIGCHLDs that come close together are answered with one look at /proc. */
const COLLECT_DELAY_MS = 1000;

/**
 * Collect one exited orphan the daemon adopted. Only for processes Bun did not spawn: a child
 * Bun spawned is Bun's to collect, or its exit status would be lost.
 */
export function collectOrphan(pid: number): void {
  const info = processInfo(pid);
  if (info?.state === "Z" && info.ppid === process.pid) collectChild(pid);
}

/**
 * Collects adopted orphans that exit on their own (their SIGCHLD comes to the daemon). Bun's
 * own children are known by their session: Bun starts them in the daemon's session, or (the
 * agents) as leaders of their own, which `isBunChild` names; an adopted orphan is in an agent's
 * session or one of its own.
 */
export class OrphanCollector {
  private timer: Timer | null = null;
  private readonly session = processInfo(process.pid)?.sid ?? null;
  private readonly onChild = () => {
    this.timer ??= setTimeout(() => this.collect(), COLLECT_DELAY_MS);
  };

  constructor(private readonly isBunChild: (pid: number) => boolean) {
    process.on("SIGCHLD", this.onChild);
  }

  collect(): void {
    this.timer = null;
    for (const child of listProcesses()) {
      const adopted =
        child.ppid === process.pid && child.sid !== this.session && !this.isBunChild(child.pid);
      if (adopted && child.state === "Z") collectOrphan(child.pid);
    }
  }

  stop(): void {
    process.off("SIGCHLD", this.onChild);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
