import { describe, expect, test } from "bun:test";
import { type Backoff, decideRestart } from "../../src/agents/restart-policy.ts";

const backoff: Backoff = { firstDelayMs: 100, maxDelayMs: 1000, limit: 4, stableAfterMs: 60_000 };
const crashed = { code: 3, signal: null, stopped: false };
const killed = { code: null, signal: "SIGKILL", stopped: false };
const clean = { code: 0, signal: null, stopped: false };
const stopped = { code: null, signal: "SIGTERM", stopped: true };

describe("restart policy", () => {
  test("no: never", () => {
    for (const exit of [crashed, killed, clean]) {
      expect(decideRestart("no", exit, 10, 0, backoff)).toEqual({ restart: false });
    }
  });

  test("on-failure: after a non-zero exit or a signal, not after exit 0", () => {
    expect(decideRestart("on-failure", crashed, 10, 0, backoff)).toMatchObject({ restart: true });
    expect(decideRestart("on-failure", killed, 10, 0, backoff)).toMatchObject({ restart: true });
    expect(decideRestart("on-failure", clean, 10, 0, backoff)).toEqual({ restart: false });
  });

  test("always: after any exit; a stop by agentd or an operator is never undone", () => {
    expect(decideRestart("always", clean, 10, 0, backoff)).toMatchObject({ restart: true });
    expect(decideRestart("always", stopped, 10, 0, backoff)).toEqual({ restart: false });
  });

  test("the wait doubles with each restart in a row, up to the maximum", () => {
    const delays = [0, 1, 2, 3].map((before) =>
      decideRestart("always", crashed, 10, before, backoff),
    );
    expect(delays).toEqual([
      { restart: true, delayMs: 100, attempt: 1 },
      { restart: true, delayMs: 200, attempt: 2 },
      { restart: true, delayMs: 400, attempt: 3 },
      { restart: true, delayMs: 800, attempt: 4 },
    ]);
    const capped = { ...backoff, limit: 10 };
    expect(decideRestart("always", crashed, 10, 6, capped)).toMatchObject({ delayMs: 1000 });
  });

  test("past the limit of restarts in a row it gives up, saying why", () => {
    const decision = decideRestart("on-failure", crashed, 10, 4, backoff);
    expect(decision).toEqual({
      restart: false,
      failure:
        "the agent exited with code 3; gave up after 4 automatic restarts in a row (restart: on-failure)",
    });
  });

  test("a process that ran stably starts the count again", () => {
    expect(decideRestart("on-failure", crashed, 60_000, 4, backoff)).toEqual({
      restart: true,
      delayMs: 100,
      attempt: 1,
    });
  });
});
