import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measureSize } from "../../src/workspace/size.ts";
import { tempDir } from "../helpers/tmp.ts";

const FILES = 10_000;
const FILE_BYTES = 100;
let tree: string;

/** 10 000 files of 100 bytes in 100 directories. */
function bigTree(): string {
  const root = join(tempDir(), "tree");
  const content = "x".repeat(FILE_BYTES);
  for (let d = 0; d < 100; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES / 100; f++) writeFileSync(join(dir, `f${f}`), content);
  }
  return root;
}

beforeAll(() => {
  tree = bigTree();
});

describe("workspace size", () => {
  test("is the disk space the tree takes, at least its files' bytes", async () => {
    const size = await measureSize(tree, { timeoutMs: 60_000 });
    expect(size.state).toBe("measured");
    if (size.state === "measured") expect(size.bytes).toBeGreaterThanOrEqual(FILES * FILE_BYTES);
  });

  test("a directory that is not there is missing, not zero", async () => {
    expect(await measureSize(join(tempDir(), "nope"), { timeoutMs: 60_000 })).toEqual({
      state: "missing",
    });
  });

  test("measuring 10 000 files never holds the event loop: other work runs meanwhile", async () => {
    // Other work = a task queued on every turn of the event loop, as an ingest of agent output
    // would be. A measurement done on the event loop itself would let none run before it ended.
    const latencies: number[] = [];
    let measuring = true;
    let queuedAt = performance.now();
    const otherWork = () => {
      const now = performance.now();
      latencies.push(now - queuedAt);
      queuedAt = now;
      if (measuring) setImmediate(otherWork);
    };
    setImmediate(otherWork);
    const started = performance.now();
    const size = await measureSize(tree, { timeoutMs: 60_000 });
    const tookMs = performance.now() - started;
    measuring = false;
    expect(size.state).toBe("measured");
    const worst = Math.max(...latencies);
    expect(
      latencies.length,
      `ran ${latencies.length} tasks during a ${tookMs.toFixed(1)} ms measurement; worst wait ${worst.toFixed(1)} ms`,
    ).toBeGreaterThan(0);
  });

  test("a measurement that outlasts its time limit is stopped and says so", async () => {
    expect(await measureSize(tree, { timeoutMs: 1 })).toEqual({ state: "unfinished" });
  });

  test("a cancelled measurement is stopped at once", async () => {
    const cancel = new AbortController();
    const measuring = measureSize(tree, { timeoutMs: 60_000, signal: cancel.signal });
    cancel.abort();
    expect(await measuring).toEqual({ state: "unfinished" });
  });
});
