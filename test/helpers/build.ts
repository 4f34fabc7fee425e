import { REPO_ROOT } from "./daemon.ts";

export interface BuildResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Compile agentd with build.ts into `outfile`, as `bun run build` does. `env` adds to a bare
 * environment (AGENTD_COMMIT, SOURCE_DATE_EPOCH).
 */
export async function buildBinary(
  outfile: string,
  env: Record<string, string> = {},
): Promise<BuildResult> {
  const proc = Bun.spawn([process.execPath, "build.ts", outfile], {
    cwd: REPO_ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: REPO_ROOT, ...env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

/** Build or fail the test with the build's own output. */
export async function mustBuild(outfile: string, env?: Record<string, string>): Promise<void> {
  const built = await buildBinary(outfile, env);
  if (built.code !== 0) throw new Error(`build failed (${built.code}):\n${built.stderr}`);
}
