import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { FifoWriter, NO_READER } from "../../../src/runtimes/persistent/fifo.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

function makeFifo(): string {
  const path = join(tempDir("agentd-fifo-"), "agent.fifo");
  const made = Bun.spawnSync(["mkfifo", "-m", "0600", path]);
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  return path;
}

/**
 * A real reader process copying the FIFO to a file. Like the exec script, it holds the FIFO
 * open read-write, so it never sees end-of-file between writers.
 */
function reader(fifo: string) {
  const out = `${fifo}.out`;
  const proc = Bun.spawn(["sh", "-c", 'exec 3<>"$1"; exec cat <&3 > "$2"', "sh", fifo, out]);
  return {
    /** Everything read, once `bytes` have arrived. */
    async received(bytes: number): Promise<string> {
      await waitFor(
        `${bytes} bytes through the FIFO`,
        () => existsSync(out) && statSync(out).size >= bytes,
      );
      proc.kill();
      return readFileSync(out, "latin1");
    },
  };
}

describe("FIFO writer", () => {
  test("without a reader it gives up after its wait with a clear error instead of hanging", async () => {
    const fifo = makeFifo();
    const started = Date.now();
    await expect(new FifoWriter(200).write(fifo, new Uint8Array([1, 0]))).rejects.toThrow(
      NO_READER,
    );
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test("a missing FIFO is the same error", async () => {
    const missing = join(tempDir("agentd-fifo-"), "none.fifo");
    await expect(new FifoWriter(50).write(missing, new Uint8Array([0]))).rejects.toThrow(NO_READER);
  });

  test("waits for a reader that opens the FIFO within the wait", async () => {
    const fifo = makeFifo();
    const writing = new FifoWriter(5000).write(fifo, new TextEncoder().encode("late reader\0"));
    const cat = reader(fifo);
    await writing;
    expect(await cat.received(12)).toBe("late reader\0");
  });

  test("writes far more than a pipe holds completely, and never interleaves two prompts", async () => {
    const fifo = makeFifo();
    const cat = reader(fifo);
    const writer = new FifoWriter();
    const first = new Uint8Array(700_000).fill(0x61);
    const second = new Uint8Array(500_000).fill(0x62);
    await Promise.all([writer.write(fifo, first), writer.write(fifo, second)]);
    expect(await cat.received(1_200_000)).toBe("a".repeat(700_000) + "b".repeat(500_000));
  });
});
