import { runCli } from "./cli/index.ts";

process.exit(await runCli(Bun.argv.slice(2)));
