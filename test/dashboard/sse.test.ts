import { describe, expect, test } from "bun:test";
import { SseParser } from "../../src/dashboard/sse.ts";

describe("SseParser", () => {
  const stream =
    "retry: 1000\n: connected\n\n" +
    'id: 7\nevent: status\ndata: {"seq":7}\n\n' +
    ": heartbeat\n\n" +
    'id: 8\nevent: turn.completed\ndata: {"seq":8}\n\n';

  test("reads events with their id, type and data; comments and retry are not events", () => {
    const parser = new SseParser();
    expect(parser.push(stream)).toEqual([
      { id: "7", event: "status", data: '{"seq":7}' },
      { id: "8", event: "turn.completed", data: '{"seq":8}' },
    ]);
    expect(parser.retryMs).toBe(1000);
  });

  test("gives the same events however the text is cut into chunks", () => {
    for (const size of [1, 2, 3, 5, 8, 13]) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < stream.length; at += size) {
        events.push(...parser.push(stream.slice(at, at + size)));
      }
      expect(events.map((event) => event.id)).toEqual(["7", "8"]);
    }
  });

  test("an event is complete only at its blank line", () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\nevent: log\ndata: {"a":1}\n')).toEqual([]);
    expect(parser.push("\n")).toEqual([{ id: "1", event: "log", data: '{"a":1}' }]);
  });

  test("joins data lines with newlines, takes CRLF line ends, and defaults the type", () => {
    const parser = new SseParser();
    expect(parser.push("data: one\r\ndata:two\r\n\r\n")).toEqual([
      { id: null, event: "message", data: "one\ntwo" },
    ]);
  });

  test("keeps the last id for events that carry none, as EventSource does", () => {
    const parser = new SseParser();
    expect(parser.push("id: 4\ndata: a\n\ndata: b\n\n").map((event) => event.id)).toEqual([
      "4",
      "4",
    ]);
  });

  test("a block without data is no event", () => {
    const parser = new SseParser();
    expect(parser.push("event: status\nid: 3\n\n")).toEqual([]);
  });
});
