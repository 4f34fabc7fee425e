import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { AgentView, DeleteResult } from "../../src/api/schemas.ts";
import type { AgentRuntime } from "../../src/runtimes/runtime.ts";
import { MemoryRuntime } from "../fixtures/memory-runtime.ts";
import { ask, FAKE_AGENT_COMMAND } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { addBareRemote, commitFile, gitIn, newRepo } from "../helpers/git.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

interface ErrorJson {
  error?: {
    code: string;
    message: string;
    details?: {
      work_at_risk: {
        path: string;
        uncommitted: string[];
        unmerged_commits: { sha: string; subject: string }[];
      }[];
    };
  };
}

type Answer = AgentView & ErrorJson;

let daemon: TestDaemon;
let root: string;

beforeAll(async () => {
  daemon = await startDaemon();
  root = join(daemon.home, "workspaces");
});

async function create(body: Record<string, unknown> = {}) {
  return daemon.api<Answer>("/agents", {
    method: "POST",
    body: JSON.stringify({ command: FAKE_AGENT_COMMAND, ...body }),
  });
}

async function createOk(body: Record<string, unknown> = {}): Promise<AgentView> {
  const res = await create(body);
  if (res.status !== 201)
    throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function remove(id: string, force = false) {
  return daemon.api<DeleteResult & ErrorJson>(`/agents/${id}${force ? "?force=1" : ""}`, {
    method: "DELETE",
  });
}

/** Where the agent's process runs, as it reports it itself. */
async function processCwd(id: string): Promise<string> {
  const answer = await ask(daemon, id, "ARGV");
  return JSON.parse(answer.response ?? "{}").cwd;
}

function branches(repo: string): string[] {
  return gitIn(repo, "branch", "--format=%(refname:short)").split("\n").filter(Boolean);
}

describe("an agent's workspace, through a real daemon", () => {
  test("without cwd: a directory of its own (0700), where its process runs, removed with it", async () => {
    const agent = await createOk();
    const path = join(root, agent.id);
    expect(agent.cwd).toBe(path);
    expect(agent.workspace).toMatchObject({
      kind: "dir",
      path,
      repo: null,
      branch: null,
      status: "active",
    });
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(await processCwd(agent.id)).toBe(path);
    const listed = await daemon.api<AgentView[]>("/agents");
    expect(listed.body.find((a) => a.id === agent.id)?.workspace?.path).toBe(path);

    const removed = await remove(agent.id);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({
      id: agent.id,
      deleted: true,
      workspace: { kind: "dir", path, removed: true, note: null },
    });
    expect(existsSync(path)).toBe(false);
  });

  test("a worktree from a base: a new branch there, and the agent's process runs in it", async () => {
    const repo = newRepo();
    const base = gitIn(repo, "rev-parse", "HEAD");
    commitFile(repo, "later.txt", "later\n", "after the base");
    const agent = await createOk({ worktree: { repo, base, branch: "feature/one" } });
    const path = join(root, agent.id);
    expect(agent.cwd).toBe(path);
    expect(agent.workspace).toMatchObject({
      kind: "worktree",
      path,
      repo,
      branch: "feature/one",
      base,
    });
    expect(gitIn(path, "rev-parse", "HEAD")).toBe(base);
    expect(gitIn(path, "branch", "--show-current")).toBe("feature/one");
    expect(existsSync(join(path, "later.txt"))).toBe(false);
    expect(await processCwd(agent.id)).toBe(path);

    const removed = await remove(agent.id);
    expect(removed.status).toBe(200);
    expect(existsSync(path)).toBe(false);
    expect(branches(repo)).toEqual(["main"]);
  });

  test("without a base or branch: agentd/<id> from the repository's HEAD", async () => {
    const repo = newRepo();
    const agent = await createOk({ worktree: { repo }, start: false });
    expect(agent.workspace).toMatchObject({ branch: `agentd/${agent.id}`, base: "main" });
    expect((await remove(agent.id)).status).toBe(200);
  });

  test("a dirty worktree: DELETE is a 409 listing the files, and the agent keeps running; force removes it", async () => {
    const repo = newRepo();
    const agent = await createOk({ worktree: { repo } });
    const path = join(root, agent.id);
    writeFileSync(join(path, "notes.txt"), "not committed\n");
    writeFileSync(join(path, "README"), "changed\n");

    const refused = await remove(agent.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.message).toContain(`removing the workspace ${path} would lose work`);
    expect(refused.body.error?.details?.work_at_risk).toEqual([
      { path, uncommitted: [" M README", "?? notes.txt"], unmerged_commits: [] },
    ]);
    const still = await daemon.api<AgentView>(`/agents/${agent.id}`);
    expect(still.body).toMatchObject({ status: "idle", pid: agent.pid });
    expect(readFileSync(join(path, "notes.txt"), "utf8")).toBe("not committed\n");

    const forced = await remove(agent.id, true);
    expect(forced.status).toBe(200);
    expect(existsSync(path)).toBe(false);
    expect(branches(repo)).toEqual(["main"]);
    expect((await daemon.api(`/agents/${agent.id}`)).status).toBe(404);
  });

  test("unmerged commits: DELETE is a 409 listing them; force removes the worktree and its branch", async () => {
    const repo = newRepo();
    const agent = await createOk({ worktree: { repo } });
    const path = join(root, agent.id);
    const first = commitFile(path, "a.txt", "a\n", "first piece");
    const second = commitFile(path, "b.txt", "b\n", "second piece");

    const refused = await remove(agent.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.details?.work_at_risk).toEqual([
      {
        path,
        uncommitted: [],
        unmerged_commits: [
          { sha: second, subject: "second piece" },
          { sha: first, subject: "first piece" },
        ],
      },
    ]);
    expect(branches(repo)).toContain(`agentd/${agent.id}`);

    expect((await remove(agent.id, true)).status).toBe(200);
    expect(existsSync(path)).toBe(false);
    expect(branches(repo)).toEqual(["main"]);
  });

  test("commits merged into another branch are safe: DELETE needs no force", async () => {
    const repo = newRepo();
    const agent = await createOk({ worktree: { repo } });
    commitFile(join(root, agent.id), "a.txt", "a\n", "merged work");
    gitIn(repo, "merge", "--quiet", "--ff-only", `agentd/${agent.id}`);
    expect((await remove(agent.id)).status).toBe(200);
    expect(gitIn(repo, "log", "-1", "--format=%s")).toBe("merged work");
  });

  test("a branch pushed to a (local bare) remote counts as safe: DELETE needs no force", async () => {
    const repo = newRepo();
    const bare = addBareRemote(repo);
    const agent = await createOk({ worktree: { repo } });
    const path = join(root, agent.id);
    const sha = commitFile(path, "pushed.txt", "p\n", "pushed work");
    gitIn(path, "push", "--quiet", "origin", `agentd/${agent.id}`);

    const removed = await remove(agent.id);
    expect(removed.status).toBe(200);
    expect(existsSync(path)).toBe(false);
    expect(branches(repo)).toEqual(["main"]);
    expect(gitIn(bare, "rev-parse", `agentd/${agent.id}`)).toBe(sha);
  });

  test("a workspace that cannot be removed keeps the agent, stopped, and the answer says why", async () => {
    const repo = newRepo();
    const agent = await createOk({ worktree: { repo } });
    const path = join(root, agent.id);
    // Someone put a directory of their own where the worktree was: git will not remove it.
    rmSync(path, { recursive: true });
    mkdirSync(path);
    writeFileSync(join(path, "theirs.txt"), "theirs\n");

    const refused = await remove(agent.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.details?.work_at_risk?.[0]?.uncommitted[0]).toContain(
      "git status failed, so all of it",
    );
    const forced = await remove(agent.id, true);
    expect(forced.status).toBe(500);
    expect(forced.body.error?.code).toBe("git_failed");
    expect(forced.body.error?.message).toStartWith(
      `agent ${agent.id} is stopped but was not deleted: its workspace ${path} stays, because git -C ${repo} worktree remove`,
    );
    expect((await daemon.api<AgentView>(`/agents/${agent.id}`)).body).toMatchObject({
      status: "stopped",
      workspace: { status: "active", path },
    });
    expect(readFileSync(join(path, "theirs.txt"), "utf8")).toBe("theirs\n");

    // Moved out of the way, the rest goes: the worktree's record and branch, then the agent.
    renameSync(path, `${path}.theirs`);
    expect((await remove(agent.id)).status).toBe(200);
    expect(branches(repo)).toEqual(["main"]);
    expect((await daemon.api(`/agents/${agent.id}`)).status).toBe(404);
  });

  test("a branch git will not delete is kept, and the answer says so", async () => {
    const repo = newRepo();
    const agent = await createOk({ worktree: { repo } });
    const branch = `agentd/${agent.id}`;
    writeFileSync(join(repo, ".git/refs/heads", `${branch}.lock`), "");
    const removed = await remove(agent.id);
    expect(removed.status).toBe(200);
    expect(removed.body.workspace).toMatchObject({ kind: "worktree", removed: true });
    expect(removed.body.workspace?.note).toStartWith(`branch ${branch} was kept: `);
    expect(existsSync(join(root, agent.id))).toBe(false);
    rmSync(join(repo, ".git/refs/heads", `${branch}.lock`));
    expect(branches(repo)).toEqual([branch, "main"]);
  });

  test("an external cwd is used as it is and never touched, not even forced", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "keep.txt"), "mine\n");
    const agent = await createOk({ cwd });
    expect(agent.workspace).toMatchObject({ kind: "external", path: cwd });
    expect(await processCwd(agent.id)).toBe(cwd);
    const removed = await remove(agent.id, true);
    expect(removed.status).toBe(200);
    expect(removed.body.workspace).toEqual({
      kind: "external",
      path: cwd,
      removed: false,
      note: "an external cwd: agentd never removes it",
    });
    expect(readFileSync(join(cwd, "keep.txt"), "utf8")).toBe("mine\n");
  });

  test("after each turn and on stop, the time of use and the size are recorded", async () => {
    const agent = await createOk();
    const path = join(root, agent.id);
    writeFileSync(join(path, "big.bin"), Buffer.alloc(200_000, 1));
    await ask(daemon, agent.id, "hello");
    const afterTurn = await waitFor("the size after a turn", async () => {
      const { body } = await daemon.api<AgentView>(`/agents/${agent.id}`);
      const size = body.workspace?.size_bytes ?? 0;
      return size >= 200_000 ? body.workspace : undefined;
    });
    expect((afterTurn?.accessed_at ?? "") > (agent.workspace?.accessed_at ?? "")).toBe(true);

    writeFileSync(join(path, "bigger.bin"), Buffer.alloc(400_000, 1));
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    const afterStop = await waitFor("the size after the stop", async () => {
      const { body } = await daemon.api<AgentView>(`/agents/${agent.id}`);
      const size = body.workspace?.size_bytes ?? 0;
      return size >= 600_000 ? body.workspace : undefined;
    });
    expect((afterStop?.accessed_at ?? "") > (afterTurn?.accessed_at ?? "")).toBe(true);
  });
});

describe("a workspace garbage collection removed", () => {
  test("is not started again: the agent has nowhere to work", async () => {
    const agent = await createOk();
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    // Unused for more than no time at all: as soon as the clock has moved past its last use.
    await waitFor("gc to remove the workspace", async () => {
      const gc = await daemon.api<{ removed: { agent_id: string }[] }>("/workspaces/gc", {
        method: "POST",
        body: JSON.stringify({ older_than: "0s" }),
      });
      return gc.body.removed.some((r) => r.agent_id === agent.id);
    });
    const started = await daemon.api<Answer>(`/agents/${agent.id}/start`, { method: "POST" });
    expect(started.status).toBe(409);
    expect(started.body.error?.message).toContain(
      `its workspace ${join(root, agent.id)} was removed`,
    );
    expect((await remove(agent.id)).body.workspace).toBeNull();
  });
});

describe("a workspace request the daemon refuses leaves nothing behind", () => {
  test("cwd and worktree together are a 400", async () => {
    const repo = newRepo();
    const res = await create({ name: "both", cwd: tempDir(), worktree: { repo } });
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain("give cwd or worktree, not both");
    expect(branches(repo)).toEqual(["main"]);
  });

  test("a repo that is no git work tree is a 400 with git's own message", async () => {
    const notRepo = tempDir();
    const res = await create({ worktree: { repo: notRepo } });
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain(`worktree.repo ${notRepo} is not a git work tree`);
    expect(res.body.error?.message).toContain("not a git repository");
  });

  test("a relative repo, a base that is no commit, a bad branch name are 400s; unknown fields 422", async () => {
    const repo = newRepo();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ repo: "repo" }, 400, "worktree.repo must be an absolute path"],
      [{ repo, base: "no-such-ref" }, 400, 'worktree.base "no-such-ref" is not a commit'],
      [{ repo, branch: "bad..name" }, 400, 'worktree.branch "bad..name" is not usable'],
      [{ repo, depth: 1 }, 422, "worktree"],
    ];
    for (const [worktree, status, message] of cases) {
      const res = await create({ worktree });
      expect(res.status).toBe(status);
      expect(res.body.error?.message).toContain(message);
    }
    expect(branches(repo)).toEqual(["main"]);
  });

  test("an existing branch is a 409", async () => {
    const repo = newRepo();
    gitIn(repo, "branch", "taken");
    const res = await create({ worktree: { repo, branch: "taken" } });
    expect(res.status).toBe(409);
    expect(res.body.error?.message).toContain('branch "taken" already exists');
    expect(branches(repo)).toEqual(["main", "taken"]);
  });

  test("no row, no directory: the agents and the workspace root hold only what succeeded", async () => {
    const before = (await daemon.api<AgentView[]>("/agents")).body.map((a) => a.id);
    const res = await create({ name: "broken", command: ["/no/such/agent"] });
    expect(res.status).toBe(400);
    const after = (await daemon.api<AgentView[]>("/agents")).body.map((a) => a.id);
    expect(after).toEqual(before);
    const onDisk = new Bun.Glob("broken-*").scanSync({ cwd: root, onlyFiles: false });
    expect([...onDisk]).toEqual([]);
  });
});

describe("a creation that fails after its workspace was made", () => {
  /** Both modes' runtime: a memory runtime whose start fails. */
  function failingStart(): ReturnType<typeof inProcessAgentd> {
    return inProcessAgentd({
      runtimes: (deps) => {
        const runtime: AgentRuntime = new MemoryRuntime(deps);
        runtime.start = async () => {
          throw new Error("the agent would not start");
        };
        return { run: runtime, persistent: runtime };
      },
    });
  }

  test("takes its managed directory or worktree (and branch) with it", async () => {
    const world = failingStart();
    const repo = newRepo();
    for (const body of [{}, { worktree: { repo } }]) {
      const res = await world.request<ErrorJson>("POST", "/agents", {
        name: "doomed",
        command: [process.execPath],
        ...body,
      });
      expect(res.status).toBe(500);
      const left = new Bun.Glob("*").scanSync({
        cwd: world.config.workspaceRoot,
        onlyFiles: false,
      });
      expect([...left]).toEqual([]);
    }
    expect(branches(repo)).toEqual(["main"]);
    expect(await world.request<AgentView[]>("GET", "/agents")).toMatchObject({ body: [] });
  });
});

describe("prompt framing", () => {
  test("--prompt-framing raw makes raw prompts the default; turn_envelope still wins", async () => {
    const world = inProcessAgentd({ flags: { promptFraming: "raw" } });
    const command = [process.execPath];
    const raw = await world.service.create({ name: "raw", command });
    const envelope = await world.service.create({ name: "env", command, turn_envelope: true });
    expect(raw.turn_envelope).toBe(false);
    expect(envelope.turn_envelope).toBe(true);
    await world.service.send(raw.id, { message: "hello" });
    await world.service.send(envelope.id, { message: "hello" });
    expect(world.agent.written(raw.id)).toEqual(["hello\0"]);
    expect(JSON.parse((world.agent.written(envelope.id)[0] ?? "").slice(0, -1))).toMatchObject({
      v: 1,
      input: "hello",
    });
  });
});
