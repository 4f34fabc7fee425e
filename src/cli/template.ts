import { loadConfig } from "../config.ts";
import { renderAsset } from "../runtimes/persistent/assets.ts";
import { isTemplateName, TEMPLATES } from "../templates/index.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";

export const templateCommand = defineCommand({
  name: "template",
  summary: "print a built-in template, rendered for this host",
  synopsis: "template NAME",
  description: `NAME is one of: ${Object.keys(TEMPLATES).join(", ")}.\nFor example, install the daemon as a user service with:\n  agentd template agentd.service > ~/.config/systemd/user/agentd.service`,
  flags: {},
  async run({ positionals }) {
    const [name, ...extra] = positionals;
    if (name === undefined || extra.length > 0)
      throw new UsageError("expected exactly one template NAME");
    if (!isTemplateName(name)) {
      throw new UsageError(
        `no template "${name}"; choose one of ${Object.keys(TEMPLATES).join(", ")}`,
      );
    }
    process.stdout.write(renderAsset(name, loadConfig({})));
    return 0;
  },
});
