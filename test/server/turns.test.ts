import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ask, spawnFake, type TurnJson } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

type SendJson = {
  status: string;
  turn_id: string;
  response?: string | null;
  error?: string | null;
};

async function send(daemon: TestDaemon, id: string, body: Record<string, unknown>) {
  return daemon.api<Omit<SendJson, "error"> & { error?: string | null | { message: string } }>(
    `/agents/${id}/send`,
    {
      method: "POST",
      body: JSON.stringify(body),
    },
  );
}

describe("turns", () => {
  test("a caller-given turn id is kept, and reusing it is a 409", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const first = await ask(daemon, agent.id, "hello", {
      turn_id: "job:42.a",
      metadata: { ticket: 7 },
    });
    expect(first).toEqual({ status: "completed", turn_id: "job:42.a", response: "echo: hello" });
    const again = await send(daemon, agent.id, { message: "again", turn_id: "job:42.a" });
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.body.error)).toContain("job:42.a");
    const turn = (await daemon.api<TurnJson>(`/agents/${agent.id}/turns/job:42.a`)).body;
    expect(turn).toMatchObject({
      id: "job:42.a",
      input: "hello",
      status: "completed",
      response: "echo: hello",
      metadata: { ticket: 7 },
      cost_micro_usd: 15000,
      output_tokens: 42,
    });
    expect(turn.started_at).toBeString();
    expect(turn.completed_at).toBeString();
  });

  test("a turn id outside [A-Za-z0-9._:-]{1,128} is refused", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    for (const turn_id of ["has space", "", "x".repeat(129), "slash/no"]) {
      const res = await send(daemon, agent.id, { message: "hi", turn_id });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });

  test("without wait, send answers at once with the turn id", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const res = await send(daemon, agent.id, { message: "SLOW:2000" });
    expect(res.body.status).toBe("sent");
    expect(res.body.turn_id).toMatch(/^turn-/);
  });

  test("wait with a timeout answers timeout, the turn keeps running, and attaching later gets the answer", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const res = await send(daemon, agent.id, {
      message: "SLOW:1500 then done",
      wait: true,
      timeout_ms: 100,
    });
    expect(res.body).toEqual({ status: "timeout", turn_id: res.body.turn_id });
    const running = (await daemon.api<TurnJson>(`/agents/${agent.id}/turns/${res.body.turn_id}`))
      .body;
    expect(["queued", "running"]).toContain(running.status);
    const attached = (
      await daemon.api<TurnJson>(
        `/agents/${agent.id}/turns/${res.body.turn_id}?wait=1&timeout_ms=20000`,
      )
    ).body;
    expect(attached.status).toBe("completed");
    expect(attached.response).toBe("echo: SLOW:1500 then done");
  });

  test("attach with a timeout that runs out returns the turn still open", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const res = await send(daemon, agent.id, { message: "SLOW:3000" });
    const attached = (
      await daemon.api<TurnJson>(
        `/agents/${agent.id}/turns/${res.body.turn_id}?wait=1&timeout_ms=50`,
      )
    ).body;
    expect(["queued", "running"]).toContain(attached.status);
  });

  test("concurrent senders with overlapping turns each get their own answer (envelopes)", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { env: { FAKE_AGENT_CONCURRENT: "1" } });
    const slow = send(daemon, agent.id, { message: "slow one SLOW:800", wait: true });
    const fast = send(daemon, agent.id, { message: "fast one", wait: true });
    const fastAnswer = await fast;
    expect(fastAnswer.body.response).toBe("echo: fast one");
    const slowAnswer = await slow;
    expect(slowAnswer.body.response).toBe("echo: slow one SLOW:800");
  });

  test("concurrent senders each get their own answer without envelopes (matched in order)", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { turn_envelope: false });
    const [a, b] = await Promise.all([
      send(daemon, agent.id, { message: "alpha SLOW:300", wait: true }),
      send(daemon, agent.id, { message: "beta", wait: true }),
    ]);
    expect(a.body.response).toBe("echo: alpha SLOW:300");
    expect(b.body.response).toBe("echo: beta");
  });

  test("without envelopes, turn ids of the agent's own making are ignored: answers match in order", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { turn_envelope: false });
    const [a, b] = await Promise.all([
      send(daemon, agent.id, { message: "OWNID one", wait: true }),
      send(daemon, agent.id, { message: "OWNID two", wait: true }),
    ]);
    expect([a.body.response, b.body.response]).toEqual(["echo: OWNID one", "echo: OWNID two"]);
  });

  test("with envelopes, an answer naming a turn agentd does not know completes no other turn", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const stray = await send(daemon, agent.id, { message: "OWNID", wait: true, timeout_ms: 300 });
    expect(stray.body.status).toBe("timeout");
    const fine = await send(daemon, agent.id, { message: "normal", wait: true });
    expect(fine.body.response).toBe("echo: normal");
    const first = (await daemon.api<TurnJson>(`/agents/${agent.id}/turns/${stray.body.turn_id}`))
      .body;
    expect(["queued", "running"]).toContain(first.status);
  });

  test("turns are listed newest first, with limit and before paging", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    for (const n of [1, 2, 3, 4]) await ask(daemon, agent.id, `n${n}`, { turn_id: `t${n}` });
    const page1 = (await daemon.api<TurnJson[]>(`/agents/${agent.id}/turns?limit=2`)).body.map(
      (t) => t.id,
    );
    expect(page1).toEqual(["t4", "t3"]);
    const page2 = (
      await daemon.api<TurnJson[]>(`/agents/${agent.id}/turns?limit=2&before=t3`)
    ).body.map((t) => t.id);
    expect(page2).toEqual(["t2", "t1"]);
    expect((await daemon.api(`/agents/${agent.id}/turns?before=nope`)).status).toBe(404);
  });

  test("turn records survive a daemon restart", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "remember me", { turn_id: "keep" });
    expect(await daemon.stop("SIGTERM")).toBe(0);
    const next = await startDaemon({ home: daemon.home });
    const turn = (await next.api<TurnJson>(`/agents/${agent.id}/turns/keep?wait=1`)).body;
    expect(turn).toMatchObject({ id: "keep", status: "completed", response: "echo: remember me" });
  });
});
