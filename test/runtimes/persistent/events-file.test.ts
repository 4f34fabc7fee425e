import { describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent } from "../../../src/protocols/session.ts";
import { EventsFileFollower } from "../../../src/runtimes/persistent/events-file.ts";
import { testLog } from "../../helpers/logs.ts";
import { tempDir } from "../../helpers/tmp.ts";

/** A follower whose "protocol" turns every line into a log event carrying its text. */
function setup(startOffset = 0, stores: () => boolean = () => true) {
  const dir = tempDir("agentd-follow-");
  const path = join(dir, "agent.events.jsonl");
  const logPath = join(dir, "logs/agent.log");
  writeFileSync(path, "");
  const agentLog = testLog(logPath).log;
  const batches: { events: AgentEvent[]; offset: number }[] = [];
  const follower = new EventsFileFollower(
    path,
    startOffset,
    "agent-1",
    agentLog,
    (line) => [{ type: "log", level: "info", message: line }],
    (events, offset) => {
      if (!stores()) return false;
      batches.push({ events, offset });
      return true;
    },
  );
  const texts = () =>
    batches.flatMap((b) => b.events.map((e) => (e.type === "log" ? e.message : "")));
  return { path, logPath, agentLog, follower, batches, texts };
}

describe("events file follower", () => {
  test("hands on complete lines with the offset just past them, holding a partial line back", () => {
    const { path, follower, batches, texts, agentLog } = setup();
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
    agentLog.close();
  });

  test("resumes from a stored offset without handing on earlier lines again", () => {
    const first = "old line\n";
    const { path, follower, texts, agentLog } = setup(Buffer.byteLength(first));
    appendFileSync(path, `${first}new line\n`);
    follower.poll();
    expect(texts()).toEqual(["new line"]);
    agentLog.close();
  });

  test("reads a file that shrank below the offset again from the start", () => {
    const { path, follower, texts, batches, agentLog } = setup();
    appendFileSync(path, "one\ntwo\n");
    follower.poll();
    writeFileSync(path, "three\n");
    follower.poll();
    expect(texts()).toEqual(["one", "two", "three"]);
    expect(batches.at(-1)?.offset).toBe(6);
    agentLog.close();
  });

  test("copies every line into the agent log", () => {
    const { path, logPath, follower, agentLog } = setup();
    appendFileSync(path, "first\nsecond\n");
    follower.poll();
    agentLog.close();
    expect(readFileSync(logPath, "utf8")).toBe("first\nsecond\n");
  });

  test("a batch that could not be stored is read again at the next poll: nothing lost, nothing twice", () => {
    let storing = true;
    const { path, follower, texts, batches, agentLog } = setup(0, () => storing);
    appendFileSync(path, "one\n");
    follower.poll();
    storing = false;
    appendFileSync(path, "two\nthree\n");
    follower.poll();
    follower.poll();
    expect(texts()).toEqual(["one"]);
    storing = true;
    appendFileSync(path, "four\n");
    follower.poll();
    expect(texts()).toEqual(["one", "two", "three", "four"]);
    expect(batches.at(-1)?.offset).toBe(Buffer.byteLength("one\ntwo\nthree\nfour\n"));
    agentLog.close();
  });

  test("the disk space of what was stored is given back while the file keeps its size and offsets", () => {
    const { path, follower, texts, agentLog } = setup();
    const line = `${"e".repeat(1023)}\n`;
    for (let i = 0; i < 4; i++) appendFileSync(path, line.repeat(1024));
    follower.poll();
    const size = statSync(path).size;
    expect(size).toBe(4 * 1024 * 1024);
    // A hole where the stored lines were: far fewer blocks than the size needs.
    expect(statSync(path).blocks * 512).toBeLessThan(size / 2);
    appendFileSync(path, "after the hole\n");
    follower.poll();
    expect(texts()).toHaveLength(4 * 1024 + 1);
    expect(texts().at(-1)).toBe("after the hole");
    agentLog.close();
  });

  test("a file read to its end starts over empty, at offset 0, when its agent is not running", () => {
    const { path, follower, texts, batches, agentLog } = setup();
    appendFileSync(path, "one\n");
    expect(follower.startOver()).toBe(true);
    expect(statSync(path).size).toBe(0);
    appendFileSync(path, "two\n");
    follower.poll();
    expect(texts()).toEqual(["one", "two"]);
    expect(batches.at(-1)?.offset).toBe(4);
    agentLog.close();
  });

  test("a file with lines not yet stored does not start over", () => {
    let storing = true;
    const { path, follower, agentLog } = setup(0, () => storing);
    storing = false;
    appendFileSync(path, "pending\n");
    expect(follower.startOver()).toBe(false);
    expect(statSync(path).size).toBe(8);
    agentLog.close();
  });
});
