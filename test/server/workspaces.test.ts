import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { daemonPaths, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";
import { seedWorkspaces } from "../helpers/workspaces.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

async function daemonWithWorkspaces() {
  const home = tempDir("agentd-daemon-");
  const seeded = await seedWorkspaces(daemonPaths(home).db, daemonPaths(home).workspace);
  return { daemon: await startDaemon({ home }), ...seeded };
}

interface GcReport {
  dry_run: boolean;
  older_than: string;
  removed: {
    agent_id: string;
    kind: string;
    path: string;
    size_bytes: number | null;
    note: string | null;
  }[];
  kept: { agent_id: string; reason: string; work_at_risk?: unknown[] }[];
}

describe("/workspaces", () => {
  test("GET lists every workspace with its kind, size and its agent's status", async () => {
    const { daemon, old, risky } = await daemonWithWorkspaces();
    const listed = await daemon.api<Record<string, unknown>[]>("/workspaces");
    expect(listed.status).toBe(200);
    expect(listed.body.map((w) => w.agent_id).sort()).toEqual(["old", "recent", "risky"]);
    expect(listed.body.find((w) => w.agent_id === "old")).toMatchObject({
      kind: "dir",
      path: old,
      status: "active",
      size_bytes: 8192,
      agent_status: "stopped",
    });
    expect(listed.body.find((w) => w.agent_id === "risky")).toMatchObject({
      kind: "worktree",
      branch: "agentd/risky",
      path: risky.path,
    });
  });

  test("POST /gc: a dry run changes nothing; a real one removes what is old and keeps work", async () => {
    const { daemon, old, recent, risky, sha } = await daemonWithWorkspaces();
    const dry = await daemon.api<GcReport>("/workspaces/gc", {
      method: "POST",
      body: JSON.stringify({ dry_run: true }),
    });
    expect(dry.status).toBe(200);
    expect(dry.body.dry_run).toBe(true);
    expect(dry.body.older_than).toBe("1w");
    expect(dry.body.removed.map((r) => r.agent_id)).toEqual(["old"]);
    expect(existsSync(old)).toBe(true);

    const real = await daemon.api<GcReport>("/workspaces/gc", { method: "POST" });
    expect(real.status).toBe(200);
    expect(real.body.removed).toEqual([
      { agent_id: "old", kind: "dir", path: old, size_bytes: 8192, note: null },
    ]);
    const kept = Object.fromEntries(real.body.kept.map((k) => [k.agent_id, k]));
    expect(kept.recent?.reason).toContain("less than 1w ago");
    expect(kept.risky?.work_at_risk).toEqual([
      { path: risky.path, uncommitted: [], unmerged_commits: [{ sha, subject: "unmerged work" }] },
    ]);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(risky.path)).toBe(true);

    const shorter = await daemon.api<GcReport>("/workspaces/gc", {
      method: "POST",
      body: JSON.stringify({ older_than: "1d" }),
    });
    expect(shorter.body.removed.map((r) => r.agent_id)).toEqual(["recent"]);
    const listed = await daemon.api<{ agent_id: string; status: string }[]>("/workspaces");
    expect(Object.fromEntries(listed.body.map((w) => [w.agent_id, w.status]))).toEqual({
      old: "removed",
      recent: "removed",
      risky: "active",
    });
  });

  test("POST /gc with an age that is no duration is a 400 that says how to write one", async () => {
    const { daemon, old } = await daemonWithWorkspaces();
    const bad = await daemon.api<{ error: { code: string; message: string } }>("/workspaces/gc", {
      method: "POST",
      body: JSON.stringify({ older_than: "a week" }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('older_than "a week" is not a duration');
    const unknown = await daemon.api("/workspaces/gc", {
      method: "POST",
      body: JSON.stringify({ force: true }),
    });
    expect(unknown.status).toBe(422);
    expect(existsSync(old)).toBe(true);
  });
});
