import {
  logsCommand,
  lsCommand,
  restartCommand,
  rmCommand,
  setCommand,
  showCommand,
  spawnCommand,
  startCommand,
  stopCommand,
} from "./agents.ts";
import { type ParsedArgs, parseArgs, UsageError } from "./args.ts";
import { type Command, CommandFailure, commandUsage, generalUsage } from "./command.ts";
import { completionCommand } from "./completion.ts";
import { costCommand } from "./cost.ts";
import { daemonCommand } from "./daemon.ts";
import { echoAgentCommand } from "./echo-agent.ts";
import { eventsCommand } from "./events.ts";
import { importLegacyCommand } from "./import-legacy.ts";
import { installCommand, uninstallCommand } from "./install.ts";
import { templateCommand } from "./template.ts";
import {
  attachCommand,
  cancelCommand,
  messagesCommand,
  sendCommand,
  turnsCommand,
} from "./turns.ts";
import { versionCommand } from "./version.ts";
import { gcCommand, workspacesCommand } from "./workspaces.ts";

const COMMANDS: readonly Command[] = [
  daemonCommand,
  spawnCommand,
  lsCommand,
  showCommand,
  sendCommand,
  attachCommand,
  cancelCommand,
  turnsCommand,
  messagesCommand,
  setCommand,
  startCommand,
  stopCommand,
  restartCommand,
  rmCommand,
  logsCommand,
  eventsCommand,
  costCommand,
  workspacesCommand,
  gcCommand,
  echoAgentCommand,
  versionCommand,
  installCommand,
  uninstallCommand,
  templateCommand,
  importLegacyCommand,
  completionCommand(() => COMMANDS),
];

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** Runs one command line; returns the process exit code (1 for a failure, 2 for a usage error). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // Nothing asked is a usage error: scripts that lost their arguments should not pass.
    process.stderr.write(generalUsage(COMMANDS));
    return 2;
  }
  if (name === "help" || name === "--help" || name === "-h") return help(rest[0]);
  if (name === "--version")
    return versionCommand.run({ flags: {}, positionals: [], rest: [], help: false });
  const command = findCommand(name);
  if (!command) {
    process.stderr.write(`agentd: unknown command "${name}"\n\n${generalUsage(COMMANDS)}`);
    return 2;
  }
  try {
    const parsed = parseCommandLine(command, rest);
    if (parsed.help) {
      process.stdout.write(commandUsage(command));
      return 0;
    }
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`agentd ${command.name}: ${error.message}\n\n${commandUsage(command)}`);
      return 2;
    }
    if (error instanceof CommandFailure) {
      process.stderr.write(`agentd: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parseCommandLine(command: Command, argv: string[]): ParsedArgs<typeof command.flags> {
  if (command.rawArgs) {
    // A lone --help is a person asking; programs that launch such commands pass more.
    const help = argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h");
    return { flags: {}, positionals: [], rest: argv, help };
  }
  return parseArgs(argv, command.flags);
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
