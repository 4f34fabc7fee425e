import type { Subprocess } from "bun";
import { type BenchSession, withTimeout } from "./session.ts";

type Json = Record<string, unknown>;

/** Keep this much of a child's stderr, to say why it failed. */
const STDERR_TAIL = 8 * 1024;
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * A helper program driven over JSON lines (see ../baselines/protocol.ts): its first line says
 * it is ready, then it answers each request line with one line. A line with `error` fails the
 * request.
 */
export class LineChild {
  private readonly lines: string[] = [];
  private wake: (() => void) | null = null;
  private stderr = "";

  private constructor(
    readonly name: string,
    private readonly proc: Subprocess<"pipe", "pipe", "pipe">,
  ) {
    void this.readLines();
    void this.readStderr();
  }

  /** Start the program and wait for its ready line, which is returned. */
  static async start(
    session: BenchSession,
    name: string,
    argv: string[],
    env: Record<string, string> = {},
  ): Promise<{ child: LineChild; ready: Json }> {
    const proc = session.track(
      Bun.spawn(argv, {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, ...env },
      }),
    );
    const child = new LineChild(name, proc);
    try {
      return { child, ready: await child.next(60_000) };
    } catch (error) {
      proc.kill("SIGKILL");
      throw error;
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  async request<T extends Json = Json>(command: Json, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    this.proc.stdin.write(`${JSON.stringify(command)}\n`);
    await this.proc.stdin.flush();
    return (await this.next(timeoutMs)) as T;
  }

  /** Close its stdin (it should exit then) and wait; killed if it does not. */
  async close(): Promise<void> {
    try {
      await this.proc.stdin.end();
    } catch {
      // Already gone.
    }
    await withTimeout(this.proc.exited, 15_000).catch(() => {
      this.proc.kill("SIGKILL");
      return this.proc.exited;
    });
  }

  private async next(timeoutMs: number): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(
          `${this.name} exited (${this.proc.exitCode ?? this.proc.signalCode}): ${this.stderr.trim()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${this.name} did not answer within ${timeoutMs} ms: ${this.stderr.trim()}`,
        );
      await withTimeout(
        new Promise<void>((resolve) => {
          this.wake = resolve;
        }),
        left,
      ).catch(() => {});
    }
    const line = this.lines.shift() as string;
    let value: Json;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${this.name} said something that is not JSON: ${line}`);
    }
    if (typeof value.error === "string") throw new Error(`${this.name}: ${value.error}`);
    return value;
  }

  private async readLines(): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this.proc.stdout) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      this.lines.push(...parts.filter((part) => part.length > 0));
      this.wakeUp();
    }
    await this.proc.exited;
    this.wakeUp();
  }

  private async readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.proc.stderr) {
      this.stderr = (this.stderr + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
