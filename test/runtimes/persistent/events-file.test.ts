import { describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentLog } from "../../../src/logs/agent-log.ts";
import type { AgentEvent } from "../../../src/protocols/session.ts";
import { EventsFileFollower } from "../../../src/runtimes/persistent/events-file.ts";
import { tempDir } from "../../helpers/tmp.ts";

/** A follower whose "protocol" turns every line into a log event carrying its text. */
function setup(startOffset = 0) {
  const dir = tempDir("agentd-follow-");
  const path = join(dir, "agent.events.jsonl");
  const logPath = join(dir, "logs/agent.log");
  writeFileSync(path, "");
  const agentLog = new AgentLog(logPath);
  const batches: { events: AgentEvent[]; offset: number }[] = [];
  const follower = new EventsFileFollower(
    path,
    startOffset,
    "agent-1",
    agentLog,
    (line) => [{ type: "log", level: "info", message: line }],
    (events, offset) => batches.push({ events, offset }),
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
});
