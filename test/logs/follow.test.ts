import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type LogReading, readLog } from "../../src/logs/follow.ts";
import { testLog } from "../helpers/logs.ts";
import { tempDir } from "../helpers/tmp.ts";

const lineOf = (i: number) => `line ${i} ${"y".repeat(40)}`;

async function readAll(path: string, reading: Partial<LogReading> = {}): Promise<string> {
  let text = "";
  const chunks = readLog(path, {
    follow: false,
    finished: () => true,
    signal: new AbortController().signal,
    ...reading,
  });
  for await (const chunk of chunks) text += new TextDecoder().decode(chunk);
  return text;
}

function rotatedLog(lines: number) {
  const path = join(tempDir("agentd-follow-"), "agent.log");
  const { log } = testLog(path, { maxBytes: 400, keep: 5 });
  for (let i = 0; i < lines; i++) log.write("", lineOf(i));
  return { path, log };
}

describe("reading an agent log across its rotated files", () => {
  test("the whole log is its rotated files, oldest first, then the current one", async () => {
    const { path, log } = rotatedLog(30);
    log.close();
    const lines = (await readAll(path)).split("\n").filter(Boolean);
    // Five rotated files of whole lines, the rest dropped: the newest lines, in order.
    expect(lines.at(-1)).toBe(lineOf(29));
    expect(lines).toEqual(lines.map((_, i) => lineOf(30 - lines.length + i)));
    expect(lines.length).toBeGreaterThan(20);
  });

  test("tail counts lines back across files", async () => {
    const { path, log } = rotatedLog(30);
    log.close();
    const tail = (await readAll(path, { tail: 12 })).split("\n").filter(Boolean);
    expect(tail).toEqual(Array.from({ length: 12 }, (_, i) => lineOf(18 + i)));
    expect(await readAll(path, { tail: 0 })).toBe("");
  });

  test("a missing log reads as empty", async () => {
    expect(await readAll(join(tempDir("agentd-follow-"), "agent.log"))).toBe("");
  });

  test("following reads every line once while the log is written and rotated under it", async () => {
    const path = join(tempDir("agentd-follow-"), "agent.log");
    const { log } = testLog(path, { maxBytes: 2000, keep: 50 });
    let finished = false;
    const reading = readAll(path, { follow: true, finished: () => finished });
    for (let i = 0; i < 2000; i++) {
      log.write("", lineOf(i));
      if (i % 100 === 0) await Bun.sleep(20);
    }
    log.close();
    finished = true;
    const lines = (await reading).split("\n").filter(Boolean);
    expect(lines).toEqual(Array.from({ length: 2000 }, (_, i) => lineOf(i)));
  });
});
