import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { logFiles } from "./log-files.ts";

const POLL_MS = 200;
const READ_BYTES = 1024 * 1024;
/** How far back `tail` looks in each file for line starts; older lines of a huge log are not needed. */
const TAIL_WINDOW_BYTES = 4 * 1024 * 1024;

export interface LogReading {
  /** Only the last this many lines (of all the files together); all of it when undefined. */
  tail?: number | undefined;
  /** Go on with what is appended (across rotations) until `finished()` and read to the end. */
  follow: boolean;
  finished: () => boolean;
  signal: AbortSignal;
}

/** One file of the log, held open: a rotation renames it, but this still reads it. */
interface OpenFile {
  fd: number;
  ino: number;
  size: number;
}

/**
 * An agent log's bytes: its rotated files (oldest first) and the current one, from where the
 * last `tail` lines start; with `follow`, then what is appended, through rotations (the file
 * being read is finished before the new one is started), until `finished()` says no more will
 * come and everything written has been read.
 */
export async function* readLog(path: string, reading: LogReading): AsyncGenerator<Uint8Array> {
  const files = openLogFiles(path);
  try {
    const start = startOf(files, reading.tail);
    for (let i = start.file; i < files.length - 1; i++) {
      yield* readOut(files[i] as OpenFile, i === start.file ? start.offset : 0);
    }
    let current = files.at(-1) ?? null;
    let position = files.length - 1 === start.file ? start.offset : 0;
    while (!reading.signal.aborted) {
      const done = reading.finished();
      if (current) {
        const before = position;
        for (const chunk of readOut(current, position)) {
          position += chunk.length;
          yield chunk;
        }
        if (position > before) continue;
      }
      const later = filesAfter(path, current);
      if (later.length > 0) {
        // Rotated: what was written to the files after the one read so far comes next.
        files.push(...later);
        for (const file of [current, ...later.slice(0, -1)]) {
          if (file === null) continue;
          if (file !== current) yield* readOut(file, 0);
          files.splice(files.indexOf(file), 1);
          closeQuietly(file.fd);
        }
        current = later.at(-1) as OpenFile;
        position = 0;
        continue;
      }
      if (done || !reading.follow) return;
      await Bun.sleep(POLL_MS);
    }
  } finally {
    for (const file of files) closeQuietly(file.fd);
  }
}

/** Everything in the file from `offset` to its end now, in chunks. */
function* readOut(file: OpenFile, offset: number): Generator<Uint8Array> {
  let position = offset;
  for (;;) {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    const length = readSync(file.fd, buffer, 0, buffer.length, position);
    if (length === 0) return;
    position += length;
    yield buffer.subarray(0, length);
  }
}

/** The log's files, oldest first, each held open (one that vanishes meanwhile is left out). */
function openLogFiles(path: string): OpenFile[] {
  const files: OpenFile[] = [];
  for (const name of logFiles(path)) {
    const file = openFile(name);
    // A rotation while the names were read may show one file under two names.
    if (file && files.some((seen) => seen.ino === file.ino)) closeQuietly(file.fd);
    else if (file) files.push(file);
  }
  return files;
}

/**
 * The log's files written after `current` (all of them when there is none, or when it has
 * been rotated away for good), oldest first; none while `current` is still the newest.
 */
function filesAfter(path: string, current: OpenFile | null): OpenFile[] {
  const files = openLogFiles(path);
  const at = current === null ? -1 : files.findIndex((file) => file.ino === current.ino);
  const later = files.slice(at + 1);
  for (const file of files.slice(0, at + 1)) closeQuietly(file.fd);
  return later;
}

function openFile(path: string): OpenFile | null {
  try {
    const fd = openSync(path, "r");
    const stat = fstatSync(fd);
    return { fd, ino: stat.ino, size: stat.size };
  } catch {
    return null;
  }
}

/**
 * Where the last `lines` lines of the files, read one after the other, begin: the newest file
 * first, back into older ones while it holds fewer lines (within a window per file).
 */
function startOf(files: readonly OpenFile[], lines: number | undefined) {
  if (lines === undefined || files.length === 0) return { file: 0, offset: 0 };
  const last = files.length - 1;
  if (lines === 0) return { file: last, offset: (files[last] as OpenFile).size };
  let found = 0;
  let skipFinalNewline = true;
  for (let index = last; index >= 0; index--) {
    const file = files[index] as OpenFile;
    const start = Math.max(0, file.size - TAIL_WINDOW_BYTES);
    const bytes = Buffer.allocUnsafe(file.size - start);
    readSync(file.fd, bytes, 0, bytes.length, start);
    let end = bytes.length;
    if (skipFinalNewline && end > 0) {
      if (bytes[end - 1] === 0x0a) end--;
      skipFinalNewline = false;
    }
    for (let i = end - 1; i >= 0; i--) {
      if (bytes[i] === 0x0a && ++found === lines) return { file: index, offset: start + i + 1 };
    }
    if (start > 0) return { file: index, offset: start };
  }
  return { file: 0, offset: 0 };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}
