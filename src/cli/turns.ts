import type { SendResult, TurnView } from "../api/schemas.ts";
import { agentPath } from "./agents.ts";
import { type FlagSpecs, secondsAsMs, UsageError } from "./args.ts";
import { clientFrom, JSON_FLAG, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { printJson } from "./output.ts";

/** Turns: send a prompt, and wait for a turn's answer right away (send --wait) or later (attach). */

/** Where a waited-on turn stands when the wait is over. */
interface TurnOutcome {
  agentId: string;
  turnId: string;
  state: "completed" | "failed" | "cancelled" | "running";
  response: string | null;
  error: string | null;
}

/** A wait that ran out while the turn goes on exits as timeout(1) does. */
const STILL_RUNNING_EXIT = 124;

const TIMEOUT_FLAG = {
  timeout: {
    kind: "string",
    value: "S",
    help: "give up waiting after S seconds, e.g. 0.5; the turn goes on (no limit)",
  },
} as const satisfies FlagSpecs;

const EXIT_CODES = [
  "Exits 0 with the answer, 1 when the turn failed or was cancelled, and 124 when the wait",
  "ran out first: the turn goes on, and `agentd attach ID TURN` waits for it again.",
].join("\n");

export const sendCommand = defineCommand({
  name: "send",
  summary: "send a prompt to an agent (starts a turn); --wait prints its answer",
  synopsis: "send ID MESSAGE... [--wait [--timeout S]] [--turn-id TURN]",
  description: [
    "The words of MESSAGE are joined with spaces. Prints the new turn's id, or with --wait the",
    "turn's answer once it ends.",
    EXIT_CODES,
  ].join("\n"),
  flags: {
    wait: { kind: "boolean", help: "wait for the turn to end and print its answer" },
    ...TIMEOUT_FLAG,
    "turn-id": { kind: "string", value: "TURN", help: "the new turn's id (the daemon picks one)" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    const [id, ...words] = positionals;
    if (id === undefined || words.length === 0) throw new UsageError("expected ID and MESSAGE");
    if (flags.timeout !== undefined && !flags.wait) throw new UsageError("--timeout needs --wait");
    const body = {
      message: words.join(" "),
      turn_id: flags["turn-id"],
      wait: flags.wait,
      timeout_ms: timeoutMs(flags.timeout),
    };
    const answer = await clientFrom(flags).json<SendResult>("POST", `${agentPath(id)}/send`, {
      body,
      mayIdle: flags.wait,
    });
    if (answer.status === "sent") {
      if (flags.json) printJson(answer);
      else process.stdout.write(`${answer.turn_id}\n`);
      return 0;
    }
    const outcome = {
      agentId: id,
      turnId: answer.turn_id,
      state: outcomeState(answer.status),
      response: "response" in answer ? answer.response : null,
      error: "error" in answer ? answer.error : null,
    };
    return report(outcome, flags.json ? answer : undefined);
  },
});

export const attachCommand = defineCommand({
  name: "attach",
  summary: "wait for a turn to end and print its answer",
  synopsis: "attach ID TURN [--timeout S]",
  description: EXIT_CODES,
  flags: { ...TIMEOUT_FLAG, ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const [id, turnId, ...extra] = positionals;
    if (id === undefined || turnId === undefined || extra.length > 0) {
      throw new UsageError("expected an agent ID and a TURN id");
    }
    const turn = await clientFrom(flags).json<TurnView>(
      "GET",
      `${agentPath(id)}/turns/${encodeURIComponent(turnId)}`,
      { query: { wait: 1, timeout_ms: timeoutMs(flags.timeout) }, mayIdle: true },
    );
    const outcome = {
      agentId: id,
      turnId: turn.id,
      state: outcomeState(turn.status),
      response: turn.response,
      error: turn.error,
    };
    return report(outcome, flags.json ? turn : undefined);
  },
});

function timeoutMs(seconds: string | undefined): number | undefined {
  return seconds === undefined ? undefined : secondsAsMs("timeout", seconds);
}

/** Both a send answer's status and a turn record's: anything not over yet is still running. */
function outcomeState(status: string): TurnOutcome["state"] {
  switch (status) {
    case "completed":
      return "completed";
    case "error":
      return "failed";
    case "cancelled":
      return "cancelled";
    default:
      return "running";
  }
}

/** Print the outcome for people, or the server's JSON when given; returns the exit code. */
function report(outcome: TurnOutcome, json: unknown): number {
  if (json !== undefined) printJson(json);
  else printOutcome(outcome);
  if (outcome.state === "completed") return 0;
  return outcome.state === "running" ? STILL_RUNNING_EXIT : 1;
}

function printOutcome({ agentId, turnId, state, response, error }: TurnOutcome): void {
  const reason = error === null ? "" : `: ${error}`;
  switch (state) {
    case "completed":
      process.stdout.write(`${response ?? ""}\n`);
      return;
    case "failed":
      process.stderr.write(`agentd: turn ${turnId} failed${reason}\n`);
      return;
    case "cancelled":
      process.stderr.write(`agentd: turn ${turnId} was cancelled${reason}\n`);
      return;
    case "running":
      process.stderr.write(
        `agentd: turn ${turnId} is still running; resume waiting with:\n  agentd attach ${agentId} ${turnId}\n`,
      );
  }
}
