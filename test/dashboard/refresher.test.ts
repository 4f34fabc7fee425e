import { describe, expect, test } from "bun:test";
import { Refresher } from "../../src/dashboard/refresher.ts";
import { waitFor } from "../helpers/wait.ts";

/** A refresher whose rounds the test ends by hand, recording what each round was asked. */
function recorded() {
  const rounds: { keys: string[]; all: boolean }[] = [];
  const ends: (() => void)[] = [];
  let running = 0;
  let overlapped = false;
  const refresher = new Refresher<string>(async (keys, all) => {
    running++;
    if (running > 1) overlapped = true;
    rounds.push({ keys: [...keys].sort(), all });
    await new Promise<void>((resolve) => ends.push(resolve));
    running--;
  }, 0);
  return {
    refresher,
    rounds,
    overlapped: () => overlapped,
    endRound: () => ends.shift()?.(),
    waitForRounds: (n: number) => waitFor(`${n} rounds`, () => rounds.length >= n),
  };
}

describe("Refresher", () => {
  test("what is marked together is read in one round", async () => {
    const r = recorded();
    r.refresher.mark("a");
    r.refresher.mark("b");
    r.refresher.mark("a");
    await r.waitForRounds(1);
    r.endRound();
    expect(r.rounds).toEqual([{ keys: ["a", "b"], all: false }]);
    r.refresher.close();
  });

  test("marks made during a round wait for the next round; rounds never overlap", async () => {
    const r = recorded();
    r.refresher.mark("a");
    await r.waitForRounds(1);
    r.refresher.mark("b");
    r.refresher.markAll();
    r.refresher.mark("c");
    r.endRound();
    await r.waitForRounds(2);
    r.endRound();
    expect(r.rounds).toEqual([
      { keys: ["a"], all: false },
      { keys: ["b", "c"], all: true },
    ]);
    expect(r.overlapped()).toBe(false);
    r.refresher.close();
  });

  test("a round follows another only after intervalMs", async () => {
    const starts: number[] = [];
    const refresher = new Refresher<string>(async () => {
      starts.push(Date.now());
    }, 200);
    refresher.mark("a");
    await waitFor("the first round", () => starts.length === 1);
    refresher.mark("b");
    await waitFor("the second round", () => starts.length === 2);
    expect((starts[1] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(195);
    refresher.close();
  });

  test("nothing runs once closed", async () => {
    const r = recorded();
    r.refresher.close();
    r.refresher.mark("a");
    // Timers of equal delay fire in order: once a later refresher has run, this one would have.
    const later = recorded();
    later.refresher.mark("b");
    await later.waitForRounds(1);
    later.endRound();
    expect(r.rounds).toEqual([]);
    later.refresher.close();
  });
});
