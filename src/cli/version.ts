import { buildInfo, VERSION } from "../version.ts";
import { defineCommand } from "./command.ts";

export const versionCommand = defineCommand({
  name: "version",
  summary: "print the agentd version",
  synopsis: "version [--json]",
  description:
    "--json prints version, commit, Bun version and build time (built_at is null from source).",
  flags: {
    json: { kind: "boolean", help: "print version, commit, bun and built_at as JSON" },
  },
  async run({ flags }) {
    if (flags.json) process.stdout.write(`${JSON.stringify(buildInfo())}\n`);
    else process.stdout.write(`agentd ${VERSION}\n`);
    return 0;
  },
});
