import { runCli } from "./cli/index.ts";

// No top-level await: the compiled binary is CommonJS bytecode, which has none.
void runCli(Bun.argv.slice(2)).then((code) => process.exit(code));
