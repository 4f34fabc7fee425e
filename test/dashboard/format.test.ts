import { describe, expect, test } from "bun:test";
import type { StoredEvent } from "../../src/api/events.ts";
import { commandWords } from "../../src/dashboard/command-line.ts";
import {
  describeEvent,
  formatBytes,
  formatCost,
  formatCount,
  formatDuration,
  formatElapsed,
  startOfToday,
} from "../../src/dashboard/format.ts";
import { createRequest, type NewAgentForm } from "../../src/dashboard/new-agent-form.ts";
import { toolCallsByTurn } from "../../src/dashboard/tool-calls.ts";

describe("formatting", () => {
  test("an unknown cost is a dash, never $0; a known one as the CLI writes it", () => {
    expect(formatCost(null)).toBe("–");
    expect(formatCost(0)).toBe("$0.0000");
    expect(formatCost(2_000)).toBe("$0.0020");
  });

  test("counts, sizes and durations in their largest unit", () => {
    expect([950, 1_000, 12_345, 999_499, 999_999, 4_100_000].map(formatCount)).toEqual([
      "950",
      "1k",
      "12.3k",
      "999k",
      "1M",
      "4.1M",
    ]);
    expect([512, 4096, 1_572_864].map(formatBytes)).toEqual(["512 B", "4 KiB", "1.5 MiB"]);
    expect([0, 45_000, 12 * 60_000, 3 * 3_600_000, 2 * 86_400_000].map(formatDuration)).toEqual([
      "0s",
      "45s",
      "12m",
      "3h",
      "2d",
    ]);
    expect(formatElapsed(1_234)).toBe("1.2s");
    expect(formatElapsed(125_000)).toBe("2m");
  });

  test("today starts at local midnight", () => {
    const noon = new Date(2026, 4, 1, 12, 30).getTime();
    expect(startOfToday(noon)).toBe(new Date(2026, 4, 1).toISOString());
  });

  test("describes each kind of event in one line", () => {
    const event = (type: string, data: object) =>
      ({ seq: 1, agent_id: "a", type, data, created_at: "" }) as StoredEvent;
    expect(describeEvent(event("status", { status: "idle", previous: "starting" }))).toBe(
      "starting → idle",
    );
    expect(describeEvent(event("status", { status: "pending", previous: null }))).toBe(
      "created pending",
    );
    expect(
      describeEvent(
        event("usage", { turn_id: "t", input_tokens: 3, output_tokens: 7, cost_micro_usd: null }),
      ),
    ).toBe("3 in, 7 out, –");
    expect(describeEvent(event("turn.completed", { turn_id: "t", response: "a\n  b" }))).toBe(
      "t: a b",
    );
    expect(describeEvent(event("exit", { code: null, signal: "SIGTERM", stopped: true }))).toBe(
      "code –, SIGTERM, stopped",
    );
  });
});

describe("the command a new agent runs", () => {
  test("is split as sh splits it", () => {
    expect(commandWords(`bun "/a b/main.ts" echo-agent it\\'s 'x y'`)).toEqual([
      "bun",
      "/a b/main.ts",
      "echo-agent",
      "it's",
      "x y",
    ]);
  });

  test("keeps $NAME as written: the page has no environment to fill it from", () => {
    expect(commandWords("agent --home $HOME")).toEqual(["agent", "--home", "$HOME"]);
  });

  test("refuses shell operators, saying how to run a shell instead", () => {
    expect(() => commandWords("agent | tee out")).toThrow(/shell operator "\|".*sh -c/);
  });
});

describe("the new agent form", () => {
  const empty: NewAgentForm = {
    name: "",
    protocol: "omni",
    mode: "run",
    command: "",
    model: "",
    place: "own",
    cwd: "",
    repo: "",
    base: "",
    branch: "",
    prompt: "",
  };

  test("leaves what was not filled in to the daemon", () => {
    expect(createRequest(empty)).toEqual({ protocol: "omni", mode: "run" });
  });

  test("asks for everything that was filled in", () => {
    expect(
      createRequest({
        ...empty,
        name: " fixer ",
        mode: "persistent",
        command: "agent --fast",
        model: "m1",
        place: "worktree",
        cwd: "/ignored",
        repo: "/src/repo",
        branch: "fix",
        prompt: "fix it",
      }),
    ).toEqual({
      protocol: "omni",
      mode: "persistent",
      name: "fixer",
      command: ["agent", "--fast"],
      model: "m1",
      worktree: { repo: "/src/repo", branch: "fix" },
      prompt: "fix it",
    });
    expect(createRequest({ ...empty, place: "cwd", cwd: "/work" }).cwd).toBe("/work");
  });
});

describe("tool calls", () => {
  test("belong to the turn running when they happened", () => {
    let seq = 0;
    const event = (type: string, data: object) =>
      ({ seq: ++seq, agent_id: "a", type, data, created_at: "" }) as StoredEvent;
    const events = [
      event("tool", { phase: "call", name: "before-any-turn" }),
      event("turn.started", { turn_id: "t1" }),
      event("tool", { phase: "call", name: "read" }),
      event("tool", { phase: "result", name: "read" }),
      event("turn.completed", { turn_id: "t1", response: "ok" }),
      event("tool", { phase: "call", name: "between-turns" }),
      event("turn.started", { turn_id: "t2" }),
      event("tool", { phase: "call", name: "write" }),
    ];
    const byTurn = toolCallsByTurn(events);
    expect([...byTurn.keys()]).toEqual(["t1", "t2"]);
    expect(byTurn.get("t1")?.map((call) => `${call.phase} ${call.name}`)).toEqual([
      "call read",
      "result read",
    ]);
    expect(byTurn.get("t2")?.map((call) => call.name)).toEqual(["write"]);
  });
});
