import { join } from "node:path";
import { compileOptions } from "../../build-options.ts";
import { REPO_ROOT } from "./paths.ts";

/** Build agentd the project's way (build.ts), into `outfile`. */
export async function buildAgentd(outfile: string): Promise<void> {
  const build = Bun.spawn([process.execPath, "build.ts", outfile], {
    cwd: REPO_ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(build.stdout).text(),
    new Response(build.stderr).text(),
    build.exited,
  ]);
  if (code !== 0) throw new Error(`bun build.ts failed (${code}):\n${stdout}${stderr}`);
}

/**
 * Compile a baseline program into a single executable, with the same settings build.ts gives
 * agentd, so the two start up under the same conditions.
 */
export async function compileBaseline(entry: string, outfile: string): Promise<void> {
  const result = await Bun.build({
    ...compileOptions(outfile),
    entrypoints: [join(REPO_ROOT, entry)],
  });
  if (!result.success) {
    throw new Error(`could not compile ${entry}:\n${result.logs.map(String).join("\n")}`);
  }
}
