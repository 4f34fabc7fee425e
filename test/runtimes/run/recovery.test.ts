import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ask, getAgent, spawnFake } from "../../helpers/agents.ts";
import { daemonDatabase, MAIN, startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { killAtEnd, killStrays, processesOfAgent } from "../../helpers/processes.ts";
import { processGone, waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);
afterAll(killStrays);

/** From source without --no-orphans: a daemon killed with SIGKILL leaves its agents running. */
const WITH_ORPHANS = [process.execPath, MAIN];

describe("after a crash, the next daemon owns what it finds", () => {
  test("agents left running by a daemon killed with SIGKILL are killed, with what they left behind, and are lost with pid null", async () => {
    const first = await startDaemon({ command: WITH_ORPHANS });
    const agent = await spawnFake(first);
    const escaped = killAtEnd(
      Number(/escaped (\d+)/.exec((await ask(first, agent.id, "ESCAPE")).response ?? "")?.[1]),
    );
    killAtEnd(agent.pid as number);
    await first.stop("SIGKILL");
    // Nothing took them down with the daemon.
    expect(processGone(agent.pid as number)).toBe(false);
    expect(processGone(escaped)).toBe(false);

    const second = await startDaemon({ home: first.home });
    const lost = await getAgent(second, agent.id);
    expect(lost).toMatchObject({ status: "lost", pid: null });
    expect(lost.error).toContain("daemon stopped while this agent was running");
    expect(lost.error).toContain("were killed");
    await waitFor("the old agent process to be gone", () => processGone(agent.pid as number));
    await waitFor("what it left behind to be gone", () => processGone(escaped));
    expect(processesOfAgent(agent.id)).toEqual([]);

    // Starting it again runs one copy, and the next shutdown leaves none.
    const restarted = await second.api<{ pid: number }>(`/agents/${agent.id}/start`, {
      method: "POST",
    });
    expect(restarted.status).toBe(200);
    // (Its environment shows the agent's id once it has started its program.)
    await waitFor("the one new process", () => {
      const pids = processesOfAgent(agent.id);
      return pids.length === 1 && pids[0] === restarted.body.pid;
    });
    expect(await second.stop()).toBe(0);
    expect(processesOfAgent(agent.id)).toEqual([]);
  });

  test("a recorded pid now used by another process (its start time differs) is left alone", async () => {
    const first = await startDaemon();
    const agent = await spawnFake(first);
    await first.stop("SIGTERM");
    const bystander = Bun.spawn(["sleep", "1000"], { stdio: ["ignore", "ignore", "ignore"] });
    killAtEnd(bystander.pid);
    const db = daemonDatabase(first);
    db.run("UPDATE agents SET status = 'idle', pid = ?, pid_start = 1 WHERE id = ?", [
      bystander.pid,
      agent.id,
    ]);
    db.close();

    const second = await startDaemon({ home: first.home });
    expect(await getAgent(second, agent.id)).toMatchObject({ status: "lost", pid: null });
    expect((await getAgent(second, agent.id)).error).toContain("its process was gone");
    expect(processGone(bystander.pid)).toBe(false);
    bystander.kill("SIGKILL");
  });
});
