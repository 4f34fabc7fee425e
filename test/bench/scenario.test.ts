import { describe, expect, test } from "bun:test";
import {
  type BenchContext,
  measure,
  type Scenario,
  type Sides,
  Skip,
} from "../../bench/lib/scenario.ts";
import type { BenchSession } from "../../bench/lib/session.ts";

/** Sides that log their calls and return the next of the given values. */
function scriptedSides(calls: string[], agentd: number[], baseline: number[]): Sides {
  return {
    agentd: async () => {
      calls.push("agentd");
      return agentd.shift() ?? Number.NaN;
    },
    baseline: async () => {
      calls.push("baseline");
      return baseline.shift() ?? Number.NaN;
    },
    check: async () => {
      calls.push("check");
      return [{ what: "stored", ok: true }];
    },
    close: async () => {
      calls.push("close");
    },
  };
}

function scenario(prepare: () => Promise<Sides>): Scenario {
  return {
    id: "s",
    title: "a scenario",
    baseline: "a baseline",
    metric: { unit: "ms", better: "lower" },
    target: { compare: "ratio", bound: "max", value: 2 },
    prepare,
  };
}

const context = (smoke: boolean): BenchContext => ({
  session: {} as BenchSession,
  agentd: ["/nonexistent/agentd"],
  smoke,
});

describe("measure", () => {
  test("warms up (agentd with its checks), then alternates the sides five times, and closes", async () => {
    const calls: string[] = [];
    const sides = scriptedSides(calls, [30, 10, 50, 20, 40], [99, 10, 10, 10, 10, 10]);
    const result = await measure(
      scenario(async () => sides),
      context(false),
    );
    expect(calls).toEqual([
      "check",
      "baseline",
      ...Array(5).fill(["agentd", "baseline"]).flat(),
      "close",
    ]);
    if (result.status !== "measured") throw new Error(result.reason);
    expect(result.agentd.samples).toEqual([30, 10, 50, 20, 40]);
    expect(result.agentd.median).toBe(30);
    expect(result.comparison).toBe(3);
    expect(result.met).toBe(false);
  });

  test("without checks, agentd's warm-up is a discarded measurement", async () => {
    const calls: string[] = [];
    const sides = scriptedSides(calls, [99, 30, 30, 30, 30, 30], [99, 10, 10, 10, 10, 10]);
    delete sides.check;
    const result = await measure(
      scenario(async () => sides),
      context(false),
    );
    expect(calls.slice(0, 4)).toEqual(["agentd", "baseline", "agentd", "baseline"]);
    expect(result.status === "measured" && result.agentd.samples[0]).toBe(30);
  });

  test("a smoke run checks, then measures each side once, without warm-up", async () => {
    const calls: string[] = [];
    const result = await measure(
      scenario(async () => scriptedSides(calls, [15], [10])),
      context(true),
    );
    expect(calls).toEqual(["check", "agentd", "baseline", "close"]);
    expect(result.status === "measured" && result.met).toBe(true);
  });

  test("a failed check misses the target even when the ratio meets it", async () => {
    const sides = scriptedSides([], [10], [10]);
    sides.check = async () => [{ what: "stored", ok: false }];
    const result = await measure(
      scenario(async () => sides),
      context(true),
    );
    expect(result.status === "measured" && result.met).toBe(false);
  });

  test("a scenario this machine cannot run is skipped with the reason", async () => {
    const result = await measure(
      scenario(async () => {
        throw new Skip("no systemd user manager");
      }),
      context(false),
    );
    expect(result).toMatchObject({ status: "skipped", reason: "no systemd user manager" });
  });

  test("a side that fails fails the scenario, and it is still closed", async () => {
    const calls: string[] = [];
    const sides = scriptedSides(calls, [], []);
    sides.baseline = async () => {
      throw new Error("the baseline died");
    };
    const result = await measure(
      scenario(async () => sides),
      context(true),
    );
    expect(result).toMatchObject({ status: "failed", reason: "the baseline died" });
    expect(calls.at(-1)).toBe("close");
  });
});
