import { TURN_STATUSES } from "../agents/status.ts";
import type { MessageView, SendResult, TurnView } from "../api/schemas.ts";
import { formatCost } from "./agent-format.ts";
import { agentPath, resolveAgentId } from "./agent-ref.ts";
import { agentRef } from "./agents.ts";
import { type FlagSpecs, secondsAsMs, UsageError } from "./args.ts";
import { clientFrom, type DaemonClient, JSON_FLAG, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { formatTable, truncate } from "./table.ts";

/**
 * Turns: send a prompt, wait for a turn's answer right away (send --wait) or later (attach),
 * list an agent's turns and its conversation, cancel a turn.
 */

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
  synopsis: "send AGENT MESSAGE... [--wait [--timeout S]] [--turn-id TURN]",
  description: [
    "The words of MESSAGE are joined with spaces. Prints the new turn's id, or with --wait the",
    "turn's answer once it ends.",
    EXIT_CODES,
  ].join("\n"),
  takesAgent: true,
  flags: {
    wait: { kind: "boolean", help: "wait for the turn to end and print its answer" },
    ...TIMEOUT_FLAG,
    "turn-id": { kind: "string", value: "TURN", help: "the new turn's id (the daemon picks one)" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    const [ref, ...words] = positionals;
    if (ref === undefined || words.length === 0) throw new UsageError("expected AGENT and MESSAGE");
    if (flags.timeout !== undefined && !flags.wait) throw new UsageError("--timeout needs --wait");
    const body = {
      message: words.join(" "),
      turn_id: flags["turn-id"],
      wait: flags.wait,
      timeout_ms: timeoutMs(flags.timeout),
    };
    const client = clientFrom(flags);
    const id = await resolveAgentId(client, ref);
    const answer = await client.json<SendResult>("POST", `${agentPath(id)}/send`, {
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
  synopsis: "attach AGENT TURN [--timeout S]",
  description: EXIT_CODES,
  takesAgent: true,
  flags: { ...TIMEOUT_FLAG, ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const [ref, turnId, ...extra] = positionals;
    if (ref === undefined || turnId === undefined || extra.length > 0) {
      throw new UsageError("expected an AGENT and a TURN id");
    }
    const query = { wait: 1, timeout_ms: timeoutMs(flags.timeout) };
    const client = clientFrom(flags);
    const id = await resolveAgentId(client, ref);
    const turn = await client.json<TurnView>(
      "GET",
      `${agentPath(id)}/turns/${encodeURIComponent(turnId)}`,
      { query, mayIdle: true },
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

/** Turns asked for at once while listing them all. */
const TURN_PAGE = 1000;
const INPUT_CHARS = 50;

export const turnsCommand = defineCommand({
  name: "turns",
  summary: "list an agent's turns, oldest first, with a count of each status",
  synopsis: "turns AGENT [--json]",
  takesAgent: true,
  flags: { ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const client = clientFrom(flags);
    const id = await resolveAgentId(client, agentRef(positionals));
    const turns = await allTurns(client, id);
    if (flags.json) {
      printJson(turns);
      return 0;
    }
    const rows = turns.map((turn) => [
      turn.id,
      turn.status,
      turn.model ?? "-",
      `${turn.input_tokens}/${turn.output_tokens}`,
      formatCost(turn.cost_micro_usd),
      turn.created_at,
      truncate(turn.input, INPUT_CHARS),
    ]);
    process.stdout.write(
      formatTable(["TURN", "STATUS", "MODEL", "TOKENS IN/OUT", "COST", "CREATED", "INPUT"], rows),
    );
    process.stdout.write(`${turnSummary(turns)}\n`);
    return 0;
  },
});

export const messagesCommand = defineCommand({
  name: "messages",
  summary: "print an agent's conversation: prompts and answers",
  synopsis: "messages AGENT [--json]",
  takesAgent: true,
  flags: { ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const client = clientFrom(flags);
    const id = await resolveAgentId(client, agentRef(positionals));
    const messages = await client.json<MessageView[]>("GET", `${agentPath(id)}/messages`);
    if (flags.json) printJson(messages);
    else process.stdout.write(messages.map(formatMessage).join("\n"));
    return 0;
  },
});

export const cancelCommand = defineCommand({
  name: "cancel",
  summary: "cancel a running turn (every open one without TURN); the agent keeps running",
  synopsis: "cancel AGENT [TURN]",
  description:
    "Uses the protocol's own interrupt; a protocol that cannot cancel (omni) is refused, and\n`agentd stop` is what is left.",
  takesAgent: true,
  flags: { ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const [ref, turnId, ...extra] = positionals;
    if (ref === undefined || extra.length > 0) throw new UsageError("expected AGENT [TURN]");
    const client = clientFrom(flags);
    const id = await resolveAgentId(client, ref);
    const open =
      turnId === undefined
        ? (await allTurns(client, id))
            .filter((turn) => turn.status === "queued" || turn.status === "running")
            .map((turn) => turn.id)
        : [turnId];
    if (open.length === 0) {
      process.stderr.write(`agentd: ${id} has no turn under way\n`);
      return 1;
    }
    const turns: TurnView[] = [];
    for (const turn of open) {
      const path = `${agentPath(id)}/turns/${encodeURIComponent(turn)}/cancel`;
      turns.push(await client.json<TurnView>("POST", path));
    }
    if (flags.json) printJson(turnId === undefined ? turns : turns[0]);
    else {
      for (const turn of turns) {
        process.stdout.write(
          turn.status === "cancelled"
            ? `${turn.id} cancelled\n`
            : `${turn.id}: cancel asked; it is ${turn.status} until the agent stops it\n`,
        );
      }
    }
    return 0;
  },
});

/** Every turn of the agent, oldest first (the API pages newest first). */
async function allTurns(client: DaemonClient, id: string): Promise<TurnView[]> {
  const turns: TurnView[] = [];
  for (let before: string | undefined; ; ) {
    const page = await client.json<TurnView[]>("GET", `${agentPath(id)}/turns`, {
      query: { limit: TURN_PAGE, before },
    });
    turns.push(...page);
    if (page.length < TURN_PAGE) return turns.reverse();
    before = page.at(-1)?.id;
  }
}

/** `5 turns: 3 completed, 1 error, 1 running`. */
export function turnSummary(turns: readonly TurnView[]): string {
  const parts = TURN_STATUSES.map(
    (status) => [status, turns.filter((turn) => turn.status === status).length] as const,
  )
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  const noun = turns.length === 1 ? "turn" : "turns";
  return parts.length === 0 ? "no turns" : `${turns.length} ${noun}: ${parts.join(", ")}`;
}

function formatMessage(message: MessageView): string {
  const turn = message.turn_id === null ? "" : ` (${message.turn_id})`;
  const body = message.content
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return `${message.role}${turn} ${message.created_at}\n${body}\n`;
}

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
