const POLL_MS = 200;
/** How far back `tail` looks for line starts; older lines of a huge log are not needed. */
const TAIL_WINDOW_BYTES = 4 * 1024 * 1024;

/** Byte offset where the last `lines` lines of a file start (0 for all of it). */
export async function tailOffset(path: string, lines: number | undefined): Promise<number> {
  const file = Bun.file(path);
  if (lines === undefined || !(await file.exists())) return 0;
  const size = file.size;
  const start = Math.max(0, size - TAIL_WINDOW_BYTES);
  const bytes = await file.slice(start, size).bytes();
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  let found = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (bytes[i] === 0x0a && ++found === lines) return start + i + 1;
  }
  return lines === 0 ? size : start;
}

/**
 * The file's bytes from `offset` on, then whatever is appended, until `finished()` says no more
 * will come and everything written has been read.
 */
export async function* followFile(
  path: string,
  offset: number,
  finished: () => boolean,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let position = offset;
  while (!signal.aborted) {
    const done = finished();
    const file = Bun.file(path);
    const size = (await file.exists()) ? file.size : 0;
    if (size > position) {
      const chunk = await file.slice(position, size).bytes();
      position += chunk.length;
      yield chunk;
      continue;
    }
    if (done) return;
    await Bun.sleep(POLL_MS);
  }
}
