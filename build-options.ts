/**
 * How agentd is compiled into one executable (build.ts), shared with the benchmark, which
 * compiles its baselines the same way so that both start up under the same conditions.
 * Not minified: Elysia's generated handlers break under whitespace minification.
 */
export function compileOptions(outfile: string): Omit<Bun.BuildConfig, "entrypoints"> {
  return {
    target: "bun",
    minify: false,
    // Parsed ahead of time: the CLI and the daemon start without parsing their whole bundle.
    bytecode: true,
    format: "cjs",
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
  };
}
