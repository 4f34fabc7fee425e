import { Skip } from "./scenario.ts";
import type { BenchSession } from "./session.ts";

export interface Load {
  connections: number;
  seconds: number;
}

/** wrk must be installed for the HTTP scenarios; skip them with the reason if it is not. */
export function requireWrk(): void {
  if (!Bun.which("wrk")) throw new Skip("wrk is not installed (apt-get install wrk)");
}

/**
 * Requests per second that wrk gets from `url` (one thread, so the server keeps the other
 * core); any error or non-2xx answer fails the measurement.
 */
export async function wrk(session: BenchSession, url: string, load: Load): Promise<number> {
  const proc = session.track(
    Bun.spawn(
      ["wrk", "-t1", `-c${load.connections}`, `-d${load.seconds}s`, "--timeout", "10s", url],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    ),
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`wrk ${url} failed (${code}): ${stderr}${stdout}`);
  const problems = [/Non-2xx or 3xx responses: \d+/, /Socket errors: .*/]
    .map((pattern) => pattern.exec(stdout)?.[0])
    .filter((found) => found !== undefined);
  if (problems.length > 0) throw new Error(`wrk ${url}: ${problems.join("; ")}`);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
  if (rate === undefined) throw new Error(`wrk ${url} printed no rate:\n${stdout}`);
  return Number(rate);
}
