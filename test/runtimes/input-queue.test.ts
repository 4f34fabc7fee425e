import { describe, expect, test } from "bun:test";
import { InputQueue, InputRefusedError } from "../../src/runtimes/input-queue.ts";
import { waitFor } from "../helpers/wait.ts";

/** An agent's input the test drains by hand: writes are taken only when it says so. */
function manualAgent(limits = { maxBytes: 100, stallMs: 60_000 }) {
  const received: string[] = [];
  const pending: (() => void)[] = [];
  const failures: unknown[] = [];
  const queue = new InputQueue(
    (bytes) =>
      new Promise<void>((resolve) => {
        pending.push(() => {
          received.push(new TextDecoder().decode(bytes));
          resolve();
        });
      }),
    (error) => failures.push(error),
    limits,
  );
  return {
    queue,
    received,
    failures,
    /** The agent reads the write it is on. */
    readOne: () => pending.shift()?.(),
    waiting: () => pending.length,
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("an agent's input queue", () => {
  test("writes are taken at once and written whole, in order, as the agent reads", async () => {
    const agent = manualAgent();
    agent.queue.accept(bytes("one"));
    agent.queue.accept(bytes("two"));
    await waitFor("the first write", () => agent.waiting() === 1);
    agent.readOne();
    await waitFor("the second write", () => agent.received.length === 1 && agent.waiting() === 1);
    agent.readOne();
    await waitFor("both, and nothing left waiting", () => agent.queue.idle);
    expect(agent.received).toEqual(["one", "two"]);
  });

  test("past the byte limit more is refused at once, with a message that says why; nothing of it is written", async () => {
    const agent = manualAgent({ maxBytes: 100, stallMs: 60_000 });
    agent.queue.accept(new Uint8Array(60));
    expect(() => agent.queue.accept(new Uint8Array(60))).toThrow(InputRefusedError);
    expect(() => agent.queue.accept(new Uint8Array(60))).toThrow(/not reading its input: 60 bytes/);
    agent.queue.accept(new Uint8Array(40));
    await waitFor("the first write", () => agent.waiting() === 1);
    agent.readOne();
    await waitFor("the second write", () => agent.waiting() === 1);
    agent.readOne();
    await waitFor("both written", () => agent.received.length === 2);
    expect(agent.received.map((text) => text.length)).toEqual([60, 40]);
  });

  test("a lone write larger than the limit is still taken: only a backlog is refused", () => {
    const agent = manualAgent({ maxBytes: 10, stallMs: 60_000 });
    expect(() => agent.queue.accept(new Uint8Array(50))).not.toThrow();
  });

  test("an agent that has taken nothing for the stall limit gets nothing more", async () => {
    const agent = manualAgent({ maxBytes: 1_000_000, stallMs: 50 });
    agent.queue.accept(bytes("stuck"));
    await waitFor("the stall limit to pass", () => {
      try {
        agent.queue.check(1);
        return false;
      } catch (error) {
        return (
          error instanceof InputRefusedError && /not read any of its input/.test(error.message)
        );
      }
    });
    expect(() => agent.queue.accept(bytes("more"))).toThrow(InputRefusedError);
    agent.readOne();
    await waitFor("the queue to drain", () => agent.queue.idle);
    expect(() => agent.queue.accept(bytes("after"))).not.toThrow();
  });

  test("a write that fails after it was taken is reported, and the next ones still go", async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const queue = new InputQueue(
      async () => {
        calls++;
        if (calls === 1) throw new Error("gone");
      },
      (error) => failures.push(error),
    );
    queue.accept(bytes("a"));
    queue.accept(bytes("b"));
    await waitFor("both writes", () => calls === 2 && queue.idle);
    expect(failures.map(String)).toEqual(["Error: gone"]);
  });
});
