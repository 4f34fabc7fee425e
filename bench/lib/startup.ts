import type { BenchSession } from "./session.ts";
import { median } from "./stats.ts";

/** The median wall time, in ms, of `runs` runs of a command that exits by itself. */
export function medianRunMs(argv: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = Bun.spawnSync(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    times.push(performance.now() - start);
    if (result.exitCode !== 0) {
      throw new Error(`${argv.join(" ")} exited with ${result.exitCode}: ${result.stderr}`);
    }
  }
  return median(times);
}

/**
 * The median time, in ms, from starting a server to its first answer to GET `path`, over `runs`
 * starts. The server prints `listening on URL`; it is stopped (SIGTERM) after each answer.
 */
export async function medianReadyMs(
  session: BenchSession,
  argv: string[],
  path: string,
  runs: number,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await readyMs(session, argv, path));
  return median(times);
}

async function readyMs(session: BenchSession, argv: string[], path: string): Promise<number> {
  const start = performance.now();
  const proc = session.track(Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  try {
    const url = await listeningUrl(proc.stdout);
    if (url === null) {
      const stderr = await new Response(proc.stderr).text();
      throw new Error(`${argv[0]} exited with ${await proc.exited} before listening: ${stderr}`);
    }
    const response = await fetch(`${url}${path}`);
    await response.arrayBuffer();
    const ms = performance.now() - start;
    if (!response.ok) throw new Error(`GET ${url}${path} answered ${response.status}`);
    return ms;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/** The URL in the first `listening on URL` line, or null if the output ends before one. */
async function listeningUrl(stdout: ReadableStream<Uint8Array>): Promise<string | null> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stdout) {
    text += decoder.decode(chunk, { stream: true });
    const url = /listening on (\S+)\n/.exec(text)?.[1];
    if (url) return url;
  }
  return null;
}
