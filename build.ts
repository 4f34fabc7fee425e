/**
 * Compile agentd into one self-contained executable: dist/agentd.
 * Not minified: Elysia's generated handlers break under whitespace minification.
 */
import pkg from "./package.json" with { type: "json" };

const outfile = process.argv[2] ?? "dist/agentd";

function gitShortHash(): string | null {
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { stderr: "ignore" });
  const hash = git.stdout.toString().trim();
  return git.exitCode === 0 && hash ? hash : null;
}

const hash = gitShortHash();
const version = hash ? `${pkg.version}+${hash}` : pkg.version;

const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  target: "bun",
  minify: false,
  define: { AGENTD_VERSION: JSON.stringify(version) },
  compile: {
    outfile,
    // Children die with the daemon, even when it is killed.
    execArgv: ["--no-orphans"],
    // The binary's behaviour must not depend on files lying around where it is started.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
});

if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
console.log(`built ${outfile} (agentd ${version})`);
