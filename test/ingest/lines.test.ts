import { describe, expect, test } from "bun:test";
import { LineSplitter, OVERSIZE_HEAD_BYTES } from "../../src/ingest/lines.ts";

function collect(maxLine: number) {
  const lines: string[] = [];
  const oversize: { head: number; total: number }[] = [];
  const splitter = new LineSplitter(maxLine, {
    line: (bytes) => lines.push(new TextDecoder().decode(bytes)),
    oversize: (head, total) => oversize.push({ head: head.length, total }),
  });
  return { splitter, lines, oversize };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("line splitting", () => {
  test("splits on \\n and carries partial lines across chunks", () => {
    const { splitter, lines } = collect(1024);
    splitter.push(bytes('{"a":'));
    splitter.push(bytes('1}\n{"b"'));
    splitter.push(bytes(":2}\n"));
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  test("a partial line survives its reader reusing the buffer it was read into", () => {
    const { splitter, lines } = collect(1024);
    const buffer = Buffer.alloc(8);
    buffer.write('{"a":1}\n');
    splitter.push(buffer.subarray(0, 8));
    buffer.write('{"bb":');
    splitter.push(buffer.subarray(0, 6));
    buffer.fill("x");
    buffer.write("22}\n");
    splitter.push(buffer.subarray(0, 4));
    expect(lines).toEqual(['{"a":1}', '{"bb":22}']);
  });

  test("does not split on U+2028 or U+2029", () => {
    const { splitter, lines } = collect(1024);
    splitter.push(bytes("one\u2028still one\u2029still\n"));
    expect(lines).toEqual(["one\u2028still one\u2029still"]);
  });

  test("a multi-byte character split across chunks survives", () => {
    const { splitter, lines } = collect(1024);
    const all = bytes("é\n");
    splitter.push(all.subarray(0, 1));
    splitter.push(all.subarray(1));
    expect(lines).toEqual(["é"]);
  });

  test("a last line without a newline is delivered at the end", () => {
    const { splitter, lines } = collect(1024);
    splitter.push(bytes("a\nb"));
    splitter.end();
    expect(lines).toEqual(["a", "b"]);
  });

  test("a line over the limit is reported once with its head and true length, and the next line is fine", () => {
    const { splitter, lines, oversize } = collect(OVERSIZE_HEAD_BYTES * 2);
    const big = "x".repeat(OVERSIZE_HEAD_BYTES * 5);
    for (let i = 0; i < big.length; i += 10_000) splitter.push(bytes(big.slice(i, i + 10_000)));
    splitter.push(bytes("\nnext\n"));
    expect(oversize).toEqual([{ head: OVERSIZE_HEAD_BYTES, total: big.length }]);
    expect(lines).toEqual(["next"]);
  });
});
