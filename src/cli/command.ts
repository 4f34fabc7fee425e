import type { FlagSpecs, ParsedArgs } from "./args.ts";
import { formatFlags } from "./args.ts";

export interface Command<S extends FlagSpecs = FlagSpecs> {
  name: string;
  summary: string;
  /** The synopsis after `agentd`, e.g. `daemon [flags]`. */
  synopsis: string;
  /** Longer help shown by `agentd help NAME`, after the synopsis. */
  description?: string;
  flags: S;
  /** Its first argument is an agent (an id, a name or an id's start): shell completion offers ids. */
  takesAgent?: boolean;
  /**
   * The command gets its argv unparsed in `rest`: for commands that other programs launch
   * with flags of their choosing, where an unknown flag must not be a usage error.
   */
  rawArgs?: boolean;
  run(args: ParsedArgs<S>): Promise<number>;
}

/** A command could not do its job; `agentd: <message>` is printed and the exit code is 1. */
export class CommandFailure extends Error {}

/** Keeps each command's flag types precise while letting the registry hold them all. */
export function defineCommand<S extends FlagSpecs>(command: Command<S>): Command {
  return command as unknown as Command;
}

export function commandUsage(command: Command): string {
  const parts = [`usage: agentd ${command.synopsis}`, "", command.summary];
  if (command.description) parts.push("", command.description);
  const help = { help: { kind: "boolean", short: "h", help: "show this help" } } as const;
  parts.push("", "flags:", formatFlags({ ...command.flags, ...help }));
  return `${parts.join("\n")}\n`;
}

export function generalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const rows = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: agentd COMMAND [flags] [args]",
    "",
    "agentd supervises LLM coding agents: it starts them, feeds them prompts, and keeps",
    "their status, turns, conversation, cost and logs.",
    "",
    "commands:",
    ...rows,
    "",
    "Run `agentd help COMMAND` or `agentd COMMAND --help` for a command's flags.",
    "",
  ].join("\n");
}
