import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnFake, waitForStatus } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

let daemon: TestDaemon;
let id: string;

beforeAll(async () => {
  daemon = await startDaemon();
  id = (await spawnFake(daemon, { prompt: "hello" })).id;
  await waitForStatus(daemon, id, "idle");
});

afterAll(stopAllDaemons);

/** The whole body of an event stream: reading it to the end proves the server ended it. */
async function streamSeqs(path: string): Promise<number[]> {
  const response = await fetch(`${daemon.url}${path}`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
}

describe("event streams with follow=0", () => {
  test("replay the stored events after ?since and end", async () => {
    const seqs = await streamSeqs(`/agents/${id}/events?since=0&follow=0`);
    expect(seqs.length).toBeGreaterThan(3);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const first = seqs[0] as number;
    expect(await streamSeqs(`/agents/${id}/events?since=${first}&follow=false`)).toEqual(
      seqs.slice(1),
    );
  });

  test("without ?since, replay nothing and end at once", async () => {
    expect(await streamSeqs("/events?follow=0")).toEqual([]);
  });

  test("follow must be a yes/no flag", async () => {
    const response = await fetch(`${daemon.url}/events?follow=maybe`);
    expect(response.status).toBe(422);
  });
});
