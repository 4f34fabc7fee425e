import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { KeyedQueue } from "../../keyed-queue.ts";

export const NO_READER = "agent is not reading prompts (not running?)";
/** How long a missing reader is waited for: an agent that was just started opens it soon. */
export const READER_WAIT_MS = 3000;
/** A reader that takes nothing for this long has stopped reading. */
const STALL_MS = 30_000;

/**
 * Writes prompts into agents' FIFOs without ever blocking the event loop: opened with
 * O_NONBLOCK, a missing reader is an error (after a short wait) instead of a hang, a full pipe
 * is waited out, and writes to one FIFO never interleave.
 */
export class FifoWriter {
  private readonly queue = new KeyedQueue();

  constructor(private readonly readerWaitMs = READER_WAIT_MS) {}

  write(path: string, bytes: Uint8Array): Promise<void> {
    return this.queue.run(path, () => this.writeNow(path, bytes));
  }

  private async writeNow(path: string, bytes: Uint8Array): Promise<void> {
    const fd = await openWhenRead(path, Date.now() + this.readerWaitMs);
    try {
      if (!fstatSync(fd).isFIFO()) throw new Error(`${path} is not a FIFO`);
      await writeFully(fd, bytes);
    } finally {
      closeSync(fd);
    }
  }
}

/** Open for writing once a reader has it open; ENXIO means none has, ENOENT not made yet. */
async function openWhenRead(path: string, deadline: number): Promise<number> {
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENXIO" && code !== "ENOENT") throw error;
      if (Date.now() >= deadline) throw new Error(NO_READER);
    }
    await Bun.sleep(delay);
  }
}

/** A pipe takes what fits; the rest goes when the reader has made room. */
async function writeFully(fd: number, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  let lastProgress = Date.now();
  let delay = 1;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
      lastProgress = Date.now();
      delay = 1;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EPIPE") throw new Error(NO_READER);
      if (code !== "EAGAIN") throw error;
      if (Date.now() - lastProgress > STALL_MS) {
        throw new Error(
          `agent stopped reading its prompt after ${offset} of ${bytes.length} bytes`,
        );
      }
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }
}
