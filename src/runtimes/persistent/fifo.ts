import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { errorMessage } from "../../errors.ts";
import { log } from "../../log.ts";
import { INPUT_LIMITS, type InputLimits, InputQueue } from "../input-queue.ts";

export const NO_READER = "agent is not reading prompts (not running?)";
/** How long a missing reader is waited for: an agent that was just started opens it soon. */
export const READER_WAIT_MS = 3000;

/**
 * Writes prompts into agents' FIFOs without ever blocking the event loop or a sender: opened
 * with O_NONBLOCK, a missing reader is the sender's error (after a short wait) instead of a
 * hang; a reader that is there but not reading gets its input queued, within the same limits
 * as a run's stdin (InputQueue), and writes to one FIFO never interleave.
 */
export class FifoWriter {
  private readonly queues = new Map<string, InputQueue>();

  constructor(
    private readonly readerWaitMs = READER_WAIT_MS,
    private readonly limits: InputLimits = INPUT_LIMITS,
  ) {}

  /** Resolves once the bytes are taken (a reader has the FIFO open); throws if refused. */
  async write(path: string, bytes: Uint8Array): Promise<void> {
    const queue = this.queueOf(path);
    queue.check(bytes.length);
    // Nothing is queued for a FIFO nobody reads: with nothing waiting, the reader is looked for now.
    if (queue.idle) closeSync(await openWhenRead(path, Date.now() + this.readerWaitMs));
    queue.accept(bytes);
  }

  private queueOf(path: string): InputQueue {
    let queue = this.queues.get(path);
    if (!queue) {
      queue = new InputQueue(
        (bytes, progress) => this.writeNow(path, bytes, progress),
        (error) => log.warn(`${path}: input lost: ${errorMessage(error)}`),
        this.limits,
      );
      this.queues.set(path, queue);
    }
    return queue;
  }

  private async writeNow(path: string, bytes: Uint8Array, progress: () => void): Promise<void> {
    const fd = await openWhenRead(path, Date.now() + this.readerWaitMs);
    try {
      if (!fstatSync(fd).isFIFO()) throw new Error(`${path} is not a FIFO`);
      await writeFully(fd, bytes, progress);
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

/**
 * A pipe takes what fits; the rest goes when the reader has made room, however long that
 * takes (the queue refuses more meanwhile). Only a reader that is gone ends it.
 */
async function writeFully(fd: number, bytes: Uint8Array, progress: () => void): Promise<void> {
  let offset = 0;
  let delay = 1;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
      progress();
      delay = 1;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EPIPE") throw new Error(NO_READER);
      if (code !== "EAGAIN") throw error;
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }
}
