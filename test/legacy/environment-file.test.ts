import { describe, expect, test } from "bun:test";
import { parseEnvironmentFile } from "../../src/legacy/environment-file.ts";
import { quoteEnvValue } from "../../src/runtimes/persistent/env-file.ts";

describe("systemd environment files", () => {
  test("the original daemon's lines: bare KEY=VALUE", () => {
    const text = [
      "AGENTD_PROVIDER=anthropic",
      "AGENTD_MODEL=claude-sonnet-4",
      "AGENTD_CWD=/home/ben/omni live",
      "AGENTD_THINKING=",
      "AGENTD_EXTRA_ARGS=--verbose --max-turns 3",
      "GH_TOKEN=abc=def",
      "",
    ].join("\n");
    expect(parseEnvironmentFile(text)).toEqual({
      AGENTD_PROVIDER: "anthropic",
      AGENTD_MODEL: "claude-sonnet-4",
      AGENTD_CWD: "/home/ben/omni live",
      AGENTD_THINKING: "",
      AGENTD_EXTRA_ARGS: "--verbose --max-turns 3",
      GH_TOKEN: "abc=def",
    });
  });

  test("comments, blank lines, spaces around the name and the value, and later assignments winning", () => {
    const text = "# comment\n; also\n\n  A = 1  \nB=first\nB=second\nnot an assignment\n";
    expect(parseEnvironmentFile(text)).toEqual({ A: "1", B: "second" });
  });

  test("quotes: single ones literal, double ones with systemd's four escapes", () => {
    const text = [
      "S='a \\n $HOME \"q\"'",
      'D="a \\"q\\" \\\\ \\$HOME \\` \\n"',
      "E=bare\\ escaped\\#",
    ].join("\n");
    expect(parseEnvironmentFile(text)).toEqual({
      S: 'a \\n $HOME "q"',
      D: 'a "q" \\ $HOME ` \\n',
      E: "bare escaped#",
    });
  });

  test("a backslash at the end of a line continues the value; quoted values may span lines", () => {
    expect(parseEnvironmentFile('A=one \\\ntwo\nB="x\ny"\nC=3')).toEqual({
      A: "one two",
      B: "x\ny",
      C: "3",
    });
  });

  test("reads back what agentd's own env files write, byte for byte", () => {
    const values = ['quo"te', "back\\slash", "$HOME and `cmd`", "100%", " spaced ", "ünï"];
    const text = values.map((value, i) => `V${i}=${quoteEnvValue(value, "test")}`).join("\n");
    expect(Object.values(parseEnvironmentFile(text))).toEqual(values);
  });
});
