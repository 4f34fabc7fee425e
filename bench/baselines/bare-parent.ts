/**
 * The spawn and memory baseline: a bare Bun parent that starts children the way a supervisor
 * must — own process group, stdin, stdout and stderr piped, output read as it comes — and holds
 * them. Requests: {spawn: n, argv} (answer: {ms} to start them all, one after another) and
 * {release: true} (closes their stdin, SIGTERM, waits for them; answer: {ms}).
 */
import type { Subprocess } from "bun";
import { serve } from "./protocol.ts";

const children: Subprocess<"pipe", "pipe", "pipe">[] = [];

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  for await (const _ of stream) {
    // Read and dropped: a supervisor keeps the pipes flowing.
  }
}

function spawn(count: number, argv: string[]): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const child = Bun.spawn(argv, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
    void drain(child.stdout);
    void drain(child.stderr);
    children.push(child);
  }
  return performance.now() - start;
}

async function release(): Promise<number> {
  const start = performance.now();
  const all = children.splice(0);
  for (const child of all) {
    child.stdin.end();
    child.kill("SIGTERM");
  }
  await Promise.all(all.map((child) => child.exited));
  return performance.now() - start;
}

await serve({ ready: true }, async (request) => {
  if (typeof request.spawn === "number" && Array.isArray(request.argv)) {
    return { ms: spawn(request.spawn, request.argv as string[]) };
  }
  if (request.release === true) return { ms: await release() };
  throw new Error(`unknown request ${JSON.stringify(request)}`);
});
await release();
