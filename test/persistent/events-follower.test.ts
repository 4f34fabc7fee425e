import { describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventsFollower, type FollowedLine } from "../../src/persistent/events-follower.ts";
import { tempDir } from "../helpers/tmp.ts";

function setup(startOffset = 0) {
  const dir = tempDir("agentd-follow-");
  const path = join(dir, "agent.events.jsonl");
  const logPath = join(dir, "logs/agent.log");
  writeFileSync(path, "");
  const batches: { lines: FollowedLine[]; offset: number }[] = [];
  const follower = new EventsFollower(path, startOffset, logPath, (lines, offset) => {
    batches.push({ lines, offset });
  });
  const texts = () => batches.flatMap((b) => b.lines.map((l) => (l.kind === "line" ? l.text : "")));
  return { path, logPath, follower, batches, texts };
}

describe("events file follower", () => {
  test("hands on complete lines with the offset just past them, holding a partial line back", () => {
    const { path, follower, batches, texts } = setup();
    appendFileSync(path, '{"a":1}\n{"b":');
    follower.poll();
    expect(texts()).toEqual(['{"a":1}']);
    expect(batches.at(-1)?.offset).toBe(8);
    appendFileSync(path, "2}\nünï\n");
    follower.poll();
    expect(texts()).toEqual(['{"a":1}', '{"b":2}', "ünï"]);
    expect(batches.at(-1)?.offset).toBe(Buffer.byteLength('{"a":1}\n{"b":2}\nünï\n'));
    follower.poll();
    expect(batches).toHaveLength(2);
    follower.close();
  });

  test("resumes from a stored offset without handing on earlier lines again", () => {
    const first = "old line\n";
    const { path, follower, texts } = setup(Buffer.byteLength(first));
    appendFileSync(path, `${first}new line\n`);
    follower.poll();
    expect(texts()).toEqual(["new line"]);
    follower.close();
  });

  test("reads a file that shrank below the offset again from the start", () => {
    const { path, follower, texts } = setup();
    appendFileSync(path, "one\ntwo\n");
    follower.poll();
    writeFileSync(path, "three\n");
    follower.poll();
    expect(texts()).toEqual(["one", "two", "three"]);
    follower.close();
  });

  test("copies every line into the agent log", () => {
    const { path, logPath, follower } = setup();
    appendFileSync(path, "first\nsecond\n");
    follower.poll();
    follower.close();
    expect(readFileSync(logPath, "utf8")).toBe("first\nsecond\n");
  });
});
