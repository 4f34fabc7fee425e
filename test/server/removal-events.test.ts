import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnFake } from "../helpers/agents.ts";
import { daemonDatabase, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { readEvents } from "../helpers/sse.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

describe("removing an agent", () => {
  test("tells the event streams open at the time (removed), and keeps nothing of it, that event included", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const removal = readEvents(`${daemon.url}/events`, (seen) =>
      seen.some((e) => e.event === "removed"),
    );
    await waitFor("the stream to be open", async () => {
      const health = await daemon.api<{ event_streams: number }>("/health");
      return health.body.event_streams === 1;
    });
    expect((await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status).toBe(200);

    const events = await removal;
    const removed = events.find((e) => e.event === "removed");
    expect(removed?.data).toMatchObject({ agent_id: agent.id, type: "removed", data: {} });
    // After the stop that removing began with.
    const exit = events.findIndex((e) => e.event === "exit" && e.data.agent_id === agent.id);
    expect(exit).toBeGreaterThan(-1);
    expect(exit).toBeLessThan(events.indexOf(removed as (typeof events)[number]));

    const db = daemonDatabase(daemon);
    const kept = db.query("SELECT count(*) AS n FROM events WHERE agent_id = ?").get(agent.id);
    db.close();
    expect(kept).toEqual({ n: 0 });
    const replay = await fetch(`${daemon.url}/events?since=0&follow=0`);
    expect(await replay.text()).not.toContain(agent.id);
  });
});
