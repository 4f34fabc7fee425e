/**
 * Compile agentd into one self-contained executable: dist/agentd (or the path given).
 * Not minified: Elysia's generated handlers break under whitespace minification.
 *
 * AGENTD_COMMIT names the commit where there is no git checkout (a Nix build); SOURCE_DATE_EPOCH
 * fixes the build time, for reproducible builds.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { compileOptions } from "./build-options.ts";
import pkg from "./package.json" with { type: "json" };

const outfile = resolve(process.argv[2] ?? "dist/agentd");

/** The checkout's commit, `-dirty` with uncommitted changes; null without git or a checkout. */
function gitCommit(): string | null {
  const git = (...args: string[]) => {
    try {
      return Bun.spawnSync(["git", ...args], { stderr: "ignore" });
    } catch {
      return null; // no git at all, as in a Nix build sandbox
    }
  };
  const head = git("rev-parse", "--short", "HEAD");
  const hash = head?.stdout.toString().trim();
  if (head?.exitCode !== 0 || !hash) return null;
  return git("diff", "--quiet", "HEAD")?.exitCode === 0 ? hash : `${hash}-dirty`;
}

function buildTime(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === "") return new Date().toISOString();
  if (!/^\d+$/.test(epoch))
    throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, got "${epoch}"`);
  return new Date(Number(epoch) * 1000).toISOString();
}

const commit = process.env.AGENTD_COMMIT || gitCommit();
const version = commit ? `${pkg.version}+${commit}` : pkg.version;

const result = await Bun.build({
  ...compileOptions(outfile),
  // The checkpoint worker runs on a thread of its own, so it is an entry point of its own.
  entrypoints: ["src/main.ts", "src/store/checkpoint-worker.ts"],
  define: {
    AGENTD_VERSION: JSON.stringify(version),
    AGENTD_COMMIT: JSON.stringify(commit),
    AGENTD_BUILT_AT: JSON.stringify(buildTime()),
  },
});

if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
const mib = (statSync(outfile).size / 1024 / 1024).toFixed(1);
console.log(`built ${outfile} (${mib} MiB): agentd ${version}`);
