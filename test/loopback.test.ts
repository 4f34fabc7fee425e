import { describe, expect, test } from "bun:test";
import { isLoopbackHost, parseHost } from "../src/loopback.ts";

describe("loopback names and Host headers", () => {
  test("loopback names and addresses are recognised, others are not", () => {
    for (const host of [
      "localhost",
      "LOCALHOST.",
      "api.localhost",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
      "::ffff:127.0.0.1",
    ]) {
      expect(`${host} ${isLoopbackHost(host)}`).toBe(`${host} true`);
    }
    for (const host of [
      "0.0.0.0",
      "::",
      "10.0.0.1",
      "127.0.0.1.nip.io",
      "localhost.example",
      "::2",
    ]) {
      expect(`${host} ${isLoopbackHost(host)}`).toBe(`${host} false`);
    }
  });

  test("a Host header gives its name (lowercased, no brackets or trailing dot) and port", () => {
    expect(parseHost("LocalHost:8400")).toEqual({ name: "localhost", port: 8400 });
    expect(parseHost("[::1]:80")).toEqual({ name: "::1", port: 80 });
    expect(parseHost("example.com.")).toEqual({ name: "example.com", port: null });
    for (const bad of ["", "::1", "a b", "user@host", "host/path", "host:port", "[zz]"]) {
      expect(parseHost(bad)).toBeNull();
    }
  });
});
