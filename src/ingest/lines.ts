const NEWLINE = 0x0a;

/** How much of an oversized line is kept for the log. */
export const OVERSIZE_HEAD_BYTES = 64 * 1024;

export interface LineSink {
  /**
   * A whole line, without its "\n". The bytes may be a view of the chunk being pushed: valid
   * until `push` returns, so a sink that keeps them longer copies them.
   */
  line(bytes: Uint8Array): void;
  /** A line longer than the limit: its first bytes, and how long it really was. */
  oversize(head: Uint8Array, totalBytes: number): void;
}

/**
 * Splits a byte stream on "\n" only (never on U+2028/U+2029), carrying partial lines across
 * chunks. Memory stays bounded: a line past `maxLineBytes` is not buffered further.
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  /** Bytes of the line not yet complete. */
  private pending = 0;
  private pushed = 0;
  private overflowing = false;
  private overflowHead: Uint8Array | null = null;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  /**
   * Bytes of complete lines (with their "\n") handed on by the pushes so far: where the line
   * still being read starts.
   */
  get completedBytes(): number {
    return this.pushed - this.pending;
  }

  push(chunk: Uint8Array): void {
    this.pushed += chunk.length;
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      if (newline !== -1 && this.pending === 0 && end - start <= this.maxLineBytes) {
        // A line wholly in this chunk goes on as a view of it: no copy.
        this.sink.line(chunk.subarray(start, end));
      } else {
        this.append(chunk.subarray(start, end));
        if (newline === -1) break;
        this.finishLine();
      }
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without "\n" still counts. */
  end(): void {
    if (this.pending > 0 || this.overflowing) this.finishLine();
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pending += bytes.length;
    if (this.overflowing) return;
    // Copy: the chunk's buffer may be reused by its reader after push returns. (On a Node
    // Buffer, slice() is a view, not a copy.)
    this.parts.push(new Uint8Array(bytes));
    if (this.pending > this.maxLineBytes) {
      this.overflowing = true;
      this.overflowHead = concat(this.parts).subarray(0, OVERSIZE_HEAD_BYTES);
      this.parts = [];
    }
  }

  private finishLine(): void {
    if (this.overflowing) {
      this.sink.oversize(this.overflowHead ?? new Uint8Array(), this.pending);
    } else {
      this.sink.line(concat(this.parts));
    }
    this.parts = [];
    this.pending = 0;
    this.overflowing = false;
    this.overflowHead = null;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  return Buffer.concat(parts);
}
