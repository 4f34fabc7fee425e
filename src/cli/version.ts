import { VERSION } from "../version.ts";
import { defineCommand } from "./command.ts";

export const versionCommand = defineCommand({
  name: "version",
  summary: "print the agentd version",
  synopsis: "version",
  flags: {},
  async run() {
    process.stdout.write(`agentd ${VERSION}\n`);
    return 0;
  },
});
