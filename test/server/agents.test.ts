import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FAKE_AGENT_COMMAND, spawnFake, waitForStatus } from "../helpers/agents.ts";
import { daemonPaths, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

type ErrorJson = { error: { code: string; message: string } };

async function create(daemon: TestDaemon, body: Record<string, unknown>) {
  return daemon.api<ErrorJson>("/agents", { method: "POST", body: JSON.stringify(body) });
}

describe("POST /agents refuses bad input with a clear 4xx and leaves nothing behind", () => {
  let daemon: TestDaemon;
  const nothingLeft = async () => {
    expect((await daemon.api<unknown[]>("/agents")).body).toEqual([]);
    const logs = daemonPaths(daemon.home).logRoot;
    expect(
      existsSync(logs)
        ? Array.from(new Bun.Glob("*").scanSync({ cwd: logs, onlyFiles: false }))
        : [],
    ).toEqual([]);
  };

  test("a command that does not exist is a 400 naming it", async () => {
    daemon = await startDaemon();
    const res = await create(daemon, { command: ["no-such-agent-binary-x"], cwd: daemon.home });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("no-such-agent-binary-x");
    await nothingLeft();
  });

  test("a command path that does not exist, or is not executable, is a 400 naming it", async () => {
    const missing = await create(daemon, { command: ["/nope/agent"], cwd: daemon.home });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain("/nope/agent");
    const file = join(daemon.home, "not-executable");
    writeFileSync(file, "#!/bin/sh\n");
    chmodSync(file, 0o644);
    const notExec = await create(daemon, { command: [file], cwd: daemon.home });
    expect(notExec.status).toBe(400);
    expect(notExec.body.error.message).toContain("not an executable");
    await nothingLeft();
  });

  test("the default agent command comes from --agent-command and is checked too", async () => {
    const res = await create(daemon, { cwd: daemon.home });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('"agent"');
    await nothingLeft();
  });

  test("a cwd that does not exist is a 400", async () => {
    const res = await create(daemon, { command: FAKE_AGENT_COMMAND, cwd: "/definitely/not/here" });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("/definitely/not/here");
    await nothingLeft();
  });

  test("a webhook that is not http(s) is a 400", async () => {
    const res = await create(daemon, {
      command: FAKE_AGENT_COMMAND,
      cwd: daemon.home,
      webhook: "ftp://x",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("http:// or https://");
    await nothingLeft();
  });

  test("a prompt containing NUL is a 400", async () => {
    const res = await create(daemon, {
      command: FAKE_AGENT_COMMAND,
      cwd: daemon.home,
      prompt: "a\u0000b",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("NUL");
    await nothingLeft();
  });

  test("invalid names are refused", async () => {
    for (const name of ["../x", "a b", "@", "x".repeat(65), "-lead"]) {
      const res = await create(daemon, { command: FAKE_AGENT_COMMAND, cwd: daemon.home, name });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.error.message).toContain("name");
    }
    await nothingLeft();
  });

  test("a malformed JSON body gets the error shape", async () => {
    const res = await daemon.api<ErrorJson>("/agents", { method: "POST", body: "{not json" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("malformed_body");
    expect(res.body.error.message).toStartWith("request body is not valid JSON: ");
  });

  test("unknown fields and wrong types are schema errors (422) with the field named", async () => {
    const unknown = await create(daemon, { command: FAKE_AGENT_COMMAND, colour: "blue" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe("validation_failed");
    const wrong = await create(daemon, { command: "not-an-array" });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.message).toContain("command");
    await nothingLeft();
  });
});

describe("agent ids and lookups", () => {
  test("the id is <name>-<random>, or agent-<random> without a name", async () => {
    const daemon = await startDaemon();
    const named = await spawnFake(daemon, { name: "builder.v2" });
    expect(named.id).toMatch(/^builder\.v2-[a-z0-9]{8}$/);
    const anonymous = await spawnFake(daemon);
    expect(anonymous.id).toMatch(/^agent-[a-z0-9]{8}$/);
    expect(named.status).toBe("idle");
  });

  test("unknown ids are 404 everywhere", async () => {
    const daemon = await startDaemon();
    for (const [method, path] of [
      ["GET", "/agents/nope"],
      ["POST", "/agents/nope/stop"],
      ["DELETE", "/agents/nope"],
      ["GET", "/agents/nope/messages"],
      ["GET", "/agents/nope/turns"],
    ] as const) {
      const res = await daemon.api<ErrorJson>(path, { method });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('"nope"');
    }
    const send = await daemon.api<ErrorJson>("/agents/nope/send", {
      method: "POST",
      body: JSON.stringify({ message: "hi" }),
    });
    expect(send.status).toBe(404);
  });

  test("send to an agent that is not running or idle is a 409 naming its status", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    await waitForStatus(daemon, agent.id, "stopped");
    const res = await daemon.api<ErrorJson>(`/agents/${agent.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "hello?" }),
    });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain("stopped");
  });

  test("start: false creates a pending run that starts on request", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { start: false });
    expect(agent.status).toBe("pending");
    expect(agent.pid).toBeNull();
    const withPrompt = await create(daemon, {
      command: FAKE_AGENT_COMMAND,
      start: false,
      prompt: "hi",
    });
    expect(withPrompt.status).toBe(400);
    const started = await daemon.api<{ status: string; pid: number }>(`/agents/${agent.id}/start`, {
      method: "POST",
    });
    expect(started.body.status).toBe("idle");
    expect(started.body.pid).toBeGreaterThan(0);
    const again = await daemon.api<ErrorJson>(`/agents/${agent.id}/start`, { method: "POST" });
    expect(again.status).toBe(409);
  });

  test("list filters by status and mode", async () => {
    const daemon = await startDaemon();
    const a = await spawnFake(daemon);
    const b = await spawnFake(daemon);
    await daemon.api(`/agents/${b.id}/stop`, { method: "POST" });
    const idle = (await daemon.api<{ id: string }[]>("/agents?status=idle")).body.map((x) => x.id);
    const stopped = (
      await daemon.api<{ id: string }[]>("/agents?status=stopped&mode=run")
    ).body.map((x) => x.id);
    expect(idle).toEqual([a.id]);
    expect(stopped).toEqual([b.id]);
    expect((await daemon.api("/agents?status=bogus")).status).toBe(422);
  });
});
