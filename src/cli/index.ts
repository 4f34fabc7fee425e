import { type ParsedArgs, parseArgs, UsageError } from "./args.ts";
import { type Command, commandUsage, generalUsage } from "./command.ts";
import { daemonCommand } from "./daemon.ts";
import { templateCommand } from "./template.ts";
import { versionCommand } from "./version.ts";

const COMMANDS: readonly Command[] = [daemonCommand, versionCommand, templateCommand];

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** Runs one command line; returns the process exit code (2 for a usage error). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    return help(rest[0]);
  }
  if (name === "--version")
    return versionCommand.run({ flags: {}, positionals: [], rest: [], help: false });
  const command = findCommand(name);
  if (!command) {
    process.stderr.write(`agentd: unknown command "${name}"\n\n${generalUsage(COMMANDS)}`);
    return 2;
  }
  let parsed: ParsedArgs<typeof command.flags>;
  try {
    parsed = parseArgs(rest, command.flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`agentd ${command.name}: ${error.message}\n\n${commandUsage(command)}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  try {
    return await command.run(parsed);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`agentd ${command.name}: ${error.message}\n\n${commandUsage(command)}`);
    return 2;
  }
}

function help(topic: string | undefined): number {
  if (topic === undefined) {
    process.stdout.write(generalUsage(COMMANDS));
    return 0;
  }
  const command = findCommand(topic);
  if (!command) {
    process.stderr.write(`agentd: no such command "${topic}"\n\n${generalUsage(COMMANDS)}`);
    return 2;
  }
  process.stdout.write(commandUsage(command));
  return 0;
}
