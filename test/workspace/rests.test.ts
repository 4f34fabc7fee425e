import { describe, expect, test } from "bun:test";
import { Rests } from "../../src/workspace/rests.ts";

describe("rests", () => {
  test("asks during a rest are resumed once, when it ends; none outside one", async () => {
    const resumed: string[] = [];
    const rests = new Rests((key) => resumed.push(key));
    expect(rests.defer("a")).toBe(false);
    const rest = rests.begin("a");
    expect(rests.defer("a")).toBe(true);
    expect(rests.defer("a")).toBe(true);
    expect(rests.defer("b")).toBe(false);
    rest.endIn(5);
    await rests.resumed();
    expect(resumed).toEqual(["a"]);
    expect(rests.defer("a")).toBe(false);
  });

  test("a rest nobody asked again during ends without resuming", async () => {
    const resumed: string[] = [];
    const rests = new Rests((key) => resumed.push(key));
    rests.begin("a").endIn(1);
    await rests.resumed();
    expect(resumed).toEqual([]);
  });

  test("cleared rests resume nothing, and nothing waits on them", async () => {
    const resumed: string[] = [];
    const rests = new Rests((key) => resumed.push(key));
    rests.begin("a").endIn(60_000);
    rests.begin("b");
    rests.defer("a");
    rests.defer("b");
    rests.clear();
    await rests.resumed();
    expect(resumed).toEqual([]);
    expect(rests.defer("a")).toBe(false);
  });
});
