import { loadConfig } from "../config.ts";
import { renderAsset } from "../runtimes/persistent/assets.ts";
import { isTemplateName, TEMPLATES } from "../templates/index.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";
import { configFrom } from "./daemon.ts";
import { planInstall } from "./install-plan.ts";

export const templateCommand = defineCommand({
  name: "template",
  summary: "print a built-in template, rendered for this host",
  synopsis: "template NAME",
  description: `NAME is one of: ${Object.keys(TEMPLATES).join(", ")}.\nagentd.service is the unit \`agentd install --dry-run\` prints; \`agentd install\` puts it in place.`,
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
    const text =
      name === "agentd.service"
        ? planInstall({ scope: process.getuid?.() === 0 ? "system" : "user", settings: {} }).text
        : renderAsset(
            name,
            configFrom(() => loadConfig({})),
          );
    process.stdout.write(text);
    return 0;
  },
});
