import agentExecScript from "./agent-exec.sh" with { type: "text" };
import daemonUnit from "./agentd.service" with { type: "text" };
import agentUnit from "./agentd-agent@.service" with { type: "text" };

/** The templates built into the binary, by the file name they are installed under. */
export const TEMPLATES = {
  "agent-exec.sh": agentExecScript,
  "agentd-agent@.service": agentUnit,
  "agentd.service": daemonUnit,
} as const;

export type TemplateName = keyof typeof TEMPLATES;

export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(TEMPLATES, name);
}

/** Fill `{{NAME}}` placeholders; a placeholder without a value is a bug, not an empty string. */
export function renderTemplate(name: TemplateName, values: Record<string, string>): string {
  return TEMPLATES[name].replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template ${name} needs a value for {{${key}}}`);
    return value;
  });
}
