import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { driverFilesIn } from "../../src/agents/driver-files.ts";
import { BadRequestError } from "../../src/errors.ts";
import {
  GOODBYE_FILE,
  GOODBYE_SOURCE,
  PERMISSION_GATE_FILE,
  PERMISSION_GATE_SOURCE,
  permissionFor,
  pi,
} from "../../src/protocols/pi.ts";
import type {
  AgentEvent,
  LaunchAgent,
  ProtocolSession,
  SessionAgent,
} from "../../src/protocols/session.ts";
import { tempDir } from "../helpers/tmp.ts";

/**
 * The pi session in process, fed pi's own lines from the transcripts the interop tests captured
 * (interop/transcripts/pi-*.jsonl), with a host that records what the session writes. Where a
 * transcript's client sent a command, the session must have written the same one; pi's answers
 * are rewritten to the session's command ids. The session's own `get_state` questions (which
 * no transcript holds) are answered as pi would: when pi next reads its input.
 */

// biome-ignore lint/suspicious/noExplicitAny: pi's JSON, read field by field
type Json = any;
type WireLine = { in: Json; out?: undefined } | { out: Json; in?: undefined };

const SESSION_FILE = "/home/u/.pi/agent/sessions/--project--/2026-11-21_0198-pi.jsonl";

const AGENT: SessionAgent = {
  id: "pi-test",
  cwd: "/tmp/project",
  model: "fake-model",
  envelopes: false,
  permissions: "ask-denied",
  sessionId: null,
};

function transcript(name: string): WireLine[] {
  const file = join(import.meta.dir, "../../interop/transcripts", `pi-${name}.jsonl`);
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

const prompt = (turn_id: string, input: string) => ({ turn_id, input, metadata: null });

/** One pi process as the session sees it. */
class PiWire {
  readonly written: Json[] = [];
  readonly emitted: AgentEvent[] = [];
  readonly session: ProtocolSession;
  /** Whether pi works on a run, as the lines played so far say. */
  private streaming = false;
  private readonly answered = new Set<string>();
  private commandsRead = 0;

  constructor(agent: Partial<SessionAgent> = {}) {
    this.session = pi.open(
      {
        write: async (bytes) => {
          const text = new TextDecoder().decode(bytes);
          expect(text.endsWith("\n")).toBe(true);
          this.written.push(JSON.parse(text));
        },
        emit: (events) => this.emitted.push(...events),
      },
      { ...AGENT, ...agent },
    );
  }

  /** A handshake as a fresh pi answers it. */
  async opened(): Promise<void> {
    const opening = this.session.open();
    this.answerQuestions();
    await opening;
  }

  /** One line from pi. */
  fromPi(message: Json): AgentEvent[] {
    const events: AgentEvent[] = [];
    if (message.type === "agent_start") {
      // pi starts a retry's run after a pause in which it reads its input.
      events.push(...this.answerQuestions());
      this.streaming = true;
    }
    if (message.type === "response" && message.command === "prompt" && message.success) {
      this.streaming = true;
    }
    if (message.type === "agent_end") this.streaming = false;
    events.push(...this.session.receive(JSON.stringify(message)));
    return events;
  }

  /** pi reads its input: the session's `get_state` questions get their answers. */
  answerQuestions(): AgentEvent[] {
    const events: AgentEvent[] = [];
    for (const question of this.written.filter((m) => m.type === "get_state")) {
      if (this.answered.has(question.id)) continue;
      this.answered.add(question.id);
      const data = { isStreaming: this.streaming, sessionFile: SESSION_FILE, sessionId: "0198" };
      events.push(
        ...this.session.receive(
          JSON.stringify({
            id: question.id,
            type: "response",
            command: "get_state",
            success: true,
            data,
          }),
        ),
      );
    }
    return events;
  }

  /** The session's next command that a client would send on its own (not its questions). */
  nextCommand(): Json {
    const commands = this.written.filter(
      (m) => m.type !== "get_state" && m.type !== "extension_ui_response",
    );
    const next = commands[this.commandsRead++];
    if (!next) throw new Error(`the session wrote no command #${this.commandsRead}`);
    return next;
  }

  replay(name: string): Replay {
    return new Replay(this, transcript(name));
  }
}

/** A transcript played against the session, one client command at a time. */
class Replay {
  private at = 0;
  /** The transcript's command ids, as the session numbered the same commands. */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly wire: PiWire,
    private readonly lines: WireLine[],
  ) {}

  /**
   * The transcript's next command must be the session's next one; then pi's lines up to the
   * client's next command are played. Returns the events the session made of them.
   */
  step(): AgentEvent[] {
    const input = this.lines[this.at]?.in;
    if (!input) throw new Error(`line ${this.at} of the transcript is not a command`);
    this.at++;
    const command = this.wire.nextCommand();
    const { id, ...fields } = input;
    expect(command).toEqual({ id: command.id, ...fields });
    this.ids.set(id, command.id);
    return this.untilNextCommand();
  }

  private untilNextCommand(): AgentEvent[] {
    const events: AgentEvent[] = [];
    for (; this.at < this.lines.length; this.at++) {
      const line = this.lines[this.at] as WireLine;
      if (line.in?.type === "extension_ui_response") {
        expect(this.wire.written).toContainEqual(line.in);
        continue;
      }
      if (line.in) break;
      const message = line.out;
      if (typeof message.id === "string" && message.type === "response") {
        const id = this.ids.get(message.id);
        // An answer to something the session never asked (the capturing test's own questions).
        if (id === undefined) continue;
        events.push(...this.wire.fromPi({ ...message, id }));
      } else {
        events.push(...this.wire.fromPi(message));
      }
    }
    events.push(...this.wire.answerQuestions());
    return events;
  }
}

const only = <T extends AgentEvent["type"]>(events: AgentEvent[], type: T) =>
  events.filter((event): event is Extract<AgentEvent, { type: T }> => event.type === type);

const turnEvents = (events: AgentEvent[]) => events.filter((e) => e.type.startsWith("turn."));

const LAUNCH: LaunchAgent = {
  provider: "auto",
  model: "auto",
  thinking: null,
  permissions: "allow-all",
  sessionId: null,
  runId: null,
};

describe("pi command line", () => {
  const dir = join(tempDir(), "drivers");
  const files = driverFilesIn(dir);
  const launch = (agent: Partial<LaunchAgent>) => pi.launch({ ...LAUNCH, ...agent }, files);
  /** What every pi agent is started with: RPC mode and agentd's goodbye extension. */
  const rpc = (...args: string[]) => ["--mode", "rpc", ...args];
  const goodbye = ["--extension", join(dir, GOODBYE_FILE)];

  test("RPC mode; provider and model only when chosen (pi's own defaults for auto)", () => {
    expect(launch({}).args).toEqual(rpc(...goodbye));
    expect(launch({ provider: "fake", model: "fake-model" }).args).toEqual(
      rpc("--provider", "fake", "--model", "fake-model", ...goodbye),
    );
    expect(launch({ model: "anthropic/claude-sonnet-4-5" }).args).toEqual(
      rpc("--model", "anthropic/claude-sonnet-4-5", ...goodbye),
    );
    expect(launch({}).env).toEqual({});
  });

  test("thinking is pi's --thinking level; a level pi does not have is refused with the ones it has", () => {
    expect(launch({ thinking: "high" }).args).toEqual(rpc("--thinking", "high", ...goodbye));
    expect(() => launch({ thinking: "deep" })).toThrow(BadRequestError);
    expect(() => launch({ thinking: "deep" })).toThrow(
      'thinking "deep" means nothing to pi: use one of off, minimal, low, medium, high, xhigh',
    );
  });

  test("allow-all leaves pi's tools as they are; read-only offers the reading tools only", () => {
    expect(launch({ permissions: "allow-all" }).args).toEqual(rpc(...goodbye));
    expect(launch({ permissions: "read-only" }).args).toEqual(
      rpc(...goodbye, "--tools", "read,grep,find,ls"),
    );
  });

  test("ask-denied loads agentd's permission gate too; the extensions are written owner-only", () => {
    const gate = join(dir, PERMISSION_GATE_FILE);
    expect(launch({ permissions: "ask-denied" }).args).toEqual(
      rpc(...goodbye, "--extension", gate),
    );
    expect(readFileSync(gate, "utf8")).toBe(PERMISSION_GATE_SOURCE);
    expect(readFileSync(join(dir, GOODBYE_FILE), "utf8")).toBe(GOODBYE_SOURCE);
    expect(statSync(gate).mode & 0o777).toBe(0o600);
    expect(PERMISSION_GATE_SOURCE).toContain("export default function agentdPermissionGate");
    expect(GOODBYE_SOURCE).toContain("export default function agentdGoodbye");
  });

  test("without agentd's driver files pi is not started (no gate would mean allow-all)", () => {
    expect(() => pi.launch({ ...LAUNCH, permissions: "ask-denied" })).toThrow(
      "the pi driver needs agentd's driver files for its extensions",
    );
  });

  test("a stored session is continued with --session <its file>", () => {
    expect(launch({ sessionId: SESSION_FILE }).args).toEqual(
      rpc(...goodbye, "--session", SESSION_FILE),
    );
  });

  test("pi can cancel and resume; prompts carry no turn ids", () => {
    expect(pi.capabilities).toEqual({ envelopes: false, cancel: true, resume: true });
    expect(pi.command).toBe("pi");
  });
});

describe("pi session: handshake", () => {
  test("open asks get_state and reports pi's session file as the session to resume", async () => {
    const wire = new PiWire();
    await wire.opened();
    expect(wire.written).toEqual([{ id: "agentd-1", type: "get_state" }]);
    expect(wire.emitted).toEqual([{ type: "session", session_id: SESSION_FILE }]);
  });

  test("a resumed session that is already the stored one is not reported again", async () => {
    const wire = new PiWire({ sessionId: SESSION_FILE });
    await wire.opened();
    expect(wire.emitted).toEqual([]);
  });

  test("a refused get_state fails the handshake with pi's words", async () => {
    const wire = new PiWire();
    const opening = wire.session.open();
    wire.session.receive(
      JSON.stringify({
        id: "agentd-1",
        type: "response",
        command: "get_state",
        success: false,
        error: "not now",
      }),
    );
    await expect(opening).rejects.toThrow("pi refused get_state: not now");
  });
});

describe("pi session: turns (pi-two-turns)", () => {
  test("a prompt is agent_start … agent_end: started, one model call's usage and cost, the answer", async () => {
    const wire = new PiWire();
    await wire.opened();
    const replay = wire.replay("two-turns");
    await wire.session.prompt(prompt("t1", "hello there"));
    const first = replay.step();
    expect(turnEvents(first)).toEqual([
      { type: "turn.started", turn_id: "t1" },
      { type: "turn.completed", turn_id: "t1", response: "echo: hello there" },
    ]);
    // models.json prices ($3 / $15 per million tokens): 120 in + 30 out = $0.00081.
    expect(only(first, "usage")).toEqual([
      {
        type: "usage",
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: 810,
        model: "fake-model",
      },
    ]);
    expect(only(first, "inference").map((e) => [e.phase, e.model])).toEqual([
      ["start", "fake-model"],
      ["end", "fake-model"],
    ]);
    await wire.session.prompt(prompt("t2", "second prompt"));
    expect(turnEvents(replay.step())).toEqual([
      { type: "turn.started", turn_id: "t2" },
      { type: "turn.completed", turn_id: "t2", response: "echo: second prompt" },
    ]);
  });

  test("a prompt given while pi works waits, and goes out after the running one's end", async () => {
    const wire = new PiWire();
    await wire.opened();
    const replay = wire.replay("two-turns");
    await wire.session.prompt(prompt("t1", "hello there"));
    await wire.session.prompt(prompt("t2", "second prompt"));
    expect(wire.written.filter((m) => m.type === "prompt")).toHaveLength(1);
    replay.step();
    expect(wire.written.filter((m) => m.type === "prompt").map((m) => m.message)).toEqual([
      "hello there",
      "second prompt",
    ]);
    expect(turnEvents(replay.step()).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: second prompt",
    });
  });

  test("the outcome waits until pi has read its next input (it could still retry)", async () => {
    const wire = new PiWire();
    await wire.opened();
    await wire.session.prompt(prompt("t1", "hello there"));
    const lines = transcript("two-turns");
    const end = lines.findIndex((line) => line.out?.type === "agent_end");
    const events: AgentEvent[] = [];
    for (const line of lines.slice(1, end + 1)) {
      const out = line.out?.id ? { ...line.out, id: "agentd-2" } : line.out;
      events.push(...wire.fromPi(out));
    }
    expect(turnEvents(events)).toEqual([{ type: "turn.started", turn_id: "t1" }]);
    expect(turnEvents(wire.answerQuestions())).toEqual([
      { type: "turn.completed", turn_id: "t1", response: "echo: hello there" },
    ]);
  });
});

describe("pi session: errors", () => {
  test('an assistant message ending with stopReason "error" fails the turn with pi\'s error (pi-error-500)', async () => {
    const wire = new PiWire();
    await wire.opened();
    const replay = wire.replay("error-500");
    await wire.session.prompt(prompt("t1", "FAIL 500"));
    const failed = replay.step();
    expect(turnEvents(failed)).toEqual([
      { type: "turn.started", turn_id: "t1" },
      { type: "turn.failed", turn_id: "t1", error: "500 fake-llm: HTTP 500 requested" },
    ]);
    // A call that failed used no tokens: no usage is recorded for it.
    expect(only(failed, "usage")).toEqual([]);
    await wire.session.prompt(prompt("t2", "after the failure"));
    expect(turnEvents(replay.step()).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: after the failure",
    });
  });

  test("a failure pi retries is one turn, failed once, after the retries are over (pi-retry)", async () => {
    const wire = new PiWire();
    await wire.opened();
    const replay = wire.replay("retry");
    await wire.session.prompt(prompt("t1", "FAIL 500"));
    const events = replay.step();
    expect(turnEvents(events)).toEqual([
      { type: "turn.started", turn_id: "t1" },
      { type: "turn.failed", turn_id: "t1", error: "500 fake-llm: HTTP 500 requested" },
    ]);
    expect(only(events, "log").map((e) => e.message)).toEqual([
      "pi retries a failed model call: 500 fake-llm: HTTP 500 requested",
      "pi gave up retrying: 500 fake-llm: HTTP 500 requested",
    ]);
    await wire.session.prompt(prompt("t2", "after the retries"));
    expect(turnEvents(replay.step()).at(-1)).toMatchObject({ type: "turn.completed" });
  });

  test("a retry that succeeds completes the turn with its answer", async () => {
    const wire = new PiWire();
    await wire.opened();
    await wire.session.prompt(prompt("t1", "hello there"));
    const failing = transcript("retry");
    const succeeding = transcript("two-turns");
    const lines = [
      ...failing.slice(1, failing.findIndex((l) => l.out?.type === "auto_retry_start") + 1),
      // The retry's run: pi's lines of an answered prompt, from its agent_start.
      ...succeeding.slice(
        succeeding.findIndex((l) => l.out?.type === "agent_start"),
        succeeding.findIndex((l) => l.out?.type === "agent_end") + 1,
      ),
    ];
    const events: AgentEvent[] = [];
    for (const line of lines) {
      events.push(...wire.fromPi(line.out?.id ? { ...line.out, id: "agentd-2" } : line.out));
    }
    events.push(...wire.answerQuestions());
    expect(turnEvents(events)).toEqual([
      { type: "turn.started", turn_id: "t1" },
      { type: "turn.completed", turn_id: "t1", response: "echo: hello there" },
    ]);
  });

  test("a run that fails before it starts (an agent_end alone) still starts and fails its turn", async () => {
    const wire = new PiWire();
    await wire.opened();
    await wire.session.prompt(prompt("t1", "hello"));
    const failure = {
      role: "assistant",
      content: [{ type: "text", text: "" }],
      usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cost: { total: 0 } },
      stopReason: "error",
      errorMessage: "No API key found for fake",
    };
    const events = [
      ...wire.fromPi({ id: "agentd-2", type: "response", command: "prompt", success: true }),
      ...wire.fromPi({ type: "agent_end", messages: [failure] }),
      ...wire.answerQuestions(),
    ];
    expect(turnEvents(events)).toEqual([
      { type: "turn.started", turn_id: "t1" },
      { type: "turn.failed", turn_id: "t1", error: "No API key found for fake" },
    ]);
  });

  test("a prompt pi refuses fails its turn with pi's words, and the next one goes out", async () => {
    const wire = new PiWire();
    await wire.opened();
    await wire.session.prompt(prompt("t1", "one"));
    await wire.session.prompt(prompt("t2", "two"));
    const refused = wire.fromPi({
      id: "agentd-2",
      type: "response",
      command: "prompt",
      success: false,
      error: "No API key found for fake",
    });
    expect(refused).toEqual([
      {
        type: "turn.failed",
        turn_id: "t1",
        error: "pi refused the prompt: No API key found for fake",
      },
    ]);
    expect(wire.written.at(-1)).toEqual({ id: "agentd-3", type: "prompt", message: "two" });
  });

  test("a prompt taken without a model run (an extension's command) completes at once", async () => {
    const wire = new PiWire({ permissions: "allow-all" });
    await wire.opened();
    await wire.session.prompt(prompt("t1", "/some-command"));
    wire.session.receive(
      JSON.stringify({ id: "agentd-2", type: "response", command: "prompt", success: true }),
    );
    // pi answers the question after the prompt: no run under way.
    const question = wire.written.at(-1);
    expect(question).toEqual({ id: "agentd-3", type: "get_state" });
    const events = wire.session.receive(
      JSON.stringify({
        id: "agentd-3",
        type: "response",
        command: "get_state",
        success: true,
        data: { isStreaming: false },
      }),
    );
    expect(turnEvents(events)).toEqual([{ type: "turn.completed", turn_id: "t1", response: null }]);
  });
});

describe("pi session: cancel (pi-abort)", () => {
  test("cancel sends abort; the aborted run ends the turn cancelled, and pi takes the next prompt", async () => {
    const wire = new PiWire();
    await wire.opened();
    const replay = wire.replay("abort");
    await wire.session.prompt(prompt("t1", "SLOW"));
    expect(turnEvents(replay.step())).toEqual([{ type: "turn.started", turn_id: "t1" }]);
    await wire.session.cancel("t1");
    expect(turnEvents(replay.step())).toEqual([
      { type: "turn.cancelled", turn_id: "t1", reason: "aborted by request" },
    ]);
    await wire.session.prompt(prompt("t2", "after the abort"));
    expect(turnEvents(replay.step()).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t2",
      response: "echo: after the abort",
    });
  });

  test("a waiting prompt is cancelled without pi ever seeing it", async () => {
    const wire = new PiWire();
    await wire.opened();
    await wire.session.prompt(prompt("t1", "SLOW"));
    await wire.session.prompt(prompt("t2", "never sent"));
    await wire.session.cancel("t2");
    expect(wire.emitted.at(-1)).toEqual({
      type: "turn.cancelled",
      turn_id: "t2",
      reason: "cancelled before pi was given the prompt",
    });
    expect(wire.written.map((m) => m.type)).toEqual(["get_state", "prompt"]);
  });

  test("a turn this process never got is cancelled at once", async () => {
    const wire = new PiWire();
    await wire.opened();
    await wire.session.cancel("lost");
    expect(wire.emitted.at(-1)).toEqual({
      type: "turn.cancelled",
      turn_id: "lost",
      reason: "cancelled; pi never got the prompt",
    });
  });
});

describe("pi session: tools and permissions", () => {
  test("tool runs are tool events; every model call's usage counts (pi-tool-allowed)", async () => {
    const wire = new PiWire({ permissions: "allow-all" });
    await wire.opened();
    const replay = wire.replay("tool-allowed");
    await wire.session.prompt(prompt("t1", "RUN: touch allowed.txt && echo ran-it"));
    const events = replay.step();
    expect(only(events, "tool")).toEqual([
      {
        type: "tool",
        phase: "call",
        name: "bash",
        detail: { command: "touch allowed.txt && echo ran-it" },
      },
      {
        type: "tool",
        phase: "result",
        name: "bash",
        detail: { is_error: false, output: "ran-it\n" },
      },
    ]);
    expect(only(events, "usage").map((e) => e.input_tokens)).toEqual([120, 120]);
    expect(turnEvents(events).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t1",
      response: "tool output: ran-it\n",
    });
  });

  test("under ask-denied the gate's question is answered no and recorded (pi-tool-agentd-gate)", async () => {
    const wire = new PiWire({ permissions: "ask-denied" });
    await wire.opened();
    const replay = wire.replay("tool-agentd-gate");
    await wire.session.prompt(prompt("t1", "RUN: touch denied.txt"));
    const events = replay.step();
    expect(only(events, "permission")).toEqual([
      {
        type: "permission",
        tool: "bash",
        decision: "denied",
        reason: "the ask-denied policy denies what needs a person's yes",
        detail: { input: { command: "touch denied.txt" } },
      },
    ]);
    const answer = wire.written.find((m) => m.type === "extension_ui_response");
    expect(answer).toEqual({ type: "extension_ui_response", id: answer.id, confirmed: false });
    expect(only(events, "tool").at(-1)?.detail).toEqual({
      is_error: true,
      output: "agentd's permission policy denied bash",
    });
    expect(turnEvents(events).at(-1)).toEqual({
      type: "turn.completed",
      turn_id: "t1",
      response: "tool output: agentd's permission policy denied bash",
    });
  });

  test("the gate's question is answered by each policy: allow-all yes, read-only only for reading tools", async () => {
    const question = (tool: string) =>
      transcript("tool-agentd-gate")
        .map((line) => line.out)
        .filter((out) => out?.type === "extension_ui_request")
        .map((out) => ({
          ...out,
          message: JSON.stringify({ ...JSON.parse(out.message), tool }),
        }))[0];
    const answers = async (permissions: SessionAgent["permissions"], tool: string) => {
      const wire = new PiWire({ permissions });
      const events = wire.fromPi(question(tool));
      return { written: wire.written.at(-1).confirmed, recorded: only(events, "permission")[0] };
    };
    expect(await answers("allow-all", "bash")).toMatchObject({
      written: true,
      recorded: { tool: "bash", decision: "allowed" },
    });
    expect(await answers("read-only", "write")).toMatchObject({
      written: false,
      recorded: {
        tool: "write",
        decision: "denied",
        reason: "the read-only policy allows only read, grep, find, ls",
      },
    });
    expect(await answers("read-only", "grep")).toMatchObject({
      written: true,
      recorded: { decision: "allowed" },
    });
    expect(permissionFor("ask-denied", "read")).toMatchObject({ allowed: false });
  });

  test("the shipped gate asks what the session recognises, and blocks the tool on its no", async () => {
    const path = driverFilesIn(tempDir()).install(PERMISSION_GATE_FILE, PERMISSION_GATE_SOURCE);
    const gate = (await import(path)).default;
    let handler: Json;
    gate({ on: (_event: string, h: Json) => (handler = h) });
    const asked: Json[] = [];
    const ctx = (answer: boolean) => ({
      ui: {
        confirm: async (title: string, message: string) => {
          asked.push({ title, message });
          return answer;
        },
      },
    });
    expect(await handler({ toolName: "read", input: { path: "a" } }, ctx(false))).toBeUndefined();
    expect(asked).toEqual([]);
    expect(
      await handler({ toolName: "bash", input: { command: "ls" } }, ctx(true)),
    ).toBeUndefined();
    expect(await handler({ toolName: "edit", input: { path: "a" } }, ctx(false))).toEqual({
      block: true,
      reason: "agentd's permission policy denied edit",
    });
    const wire = new PiWire({ permissions: "ask-denied" });
    const events = wire.fromPi({
      type: "extension_ui_request",
      id: "q1",
      method: "confirm",
      ...asked[1],
    });
    expect(only(events, "permission")[0]).toMatchObject({
      tool: "edit",
      detail: { input: { path: "a" } },
    });
  });

  test("other extensions' dialogs are dismissed (no one is there to answer) and recorded", () => {
    const wire = new PiWire({ permissions: "allow-all" });
    const events = wire.fromPi({
      type: "extension_ui_request",
      id: "d1",
      method: "confirm",
      title: "Clear session?",
      message: "All messages will be lost.",
    });
    expect(wire.written).toEqual([{ type: "extension_ui_response", id: "d1", cancelled: true }]);
    expect(events).toEqual([
      {
        type: "permission",
        tool: "extension dialog",
        decision: "denied",
        reason: "no person attends this agent to answer an extension's dialog: it was dismissed",
        detail: {
          method: "confirm",
          title: "Clear session?",
          message: "All messages will be lost.",
        },
      },
    ]);
    wire.fromPi({
      type: "extension_ui_request",
      id: "d2",
      method: "select",
      title: "Pick",
      options: ["a"],
    });
    expect(wire.written.at(-1)).toEqual({
      type: "extension_ui_response",
      id: "d2",
      cancelled: true,
    });
  });

  test("notifications are logs; status lines and widgets are nothing to agentd", () => {
    const wire = new PiWire();
    expect(
      wire.fromPi({
        type: "extension_ui_request",
        id: "n",
        method: "notify",
        message: "careful",
        notifyType: "warning",
      }),
    ).toEqual([{ type: "log", level: "warn", message: "pi: careful" }]);
    expect(
      wire.fromPi({
        type: "extension_ui_request",
        id: "s",
        method: "setStatus",
        statusKey: "k",
        statusText: "x",
      }),
    ).toEqual([]);
    expect(wire.written).toEqual([]);
  });
});

describe("pi session: goodbye (pi-goodbye)", () => {
  test("close prompts the goodbye extension's /agentd-goodbye and ends when pi has taken it", async () => {
    const wire = new PiWire();
    await wire.opened();
    const replay = wire.replay("goodbye");
    await wire.session.prompt(prompt("t1", "hello before goodbye"));
    replay.step();
    let closed = false;
    const closing = wire.session.close().then(() => {
      closed = true;
    });
    await Promise.resolve();
    expect(closed).toBe(false);
    expect(replay.step()).toEqual([]);
    await closing;
    expect(closed).toBe(true);
  });
});

describe("pi session: a process handed over by a daemon restart", () => {
  test("the end of a run the earlier daemon started is its oldest open turn's", () => {
    const wire = new PiWire();
    const lines = transcript("two-turns");
    const end = lines.findIndex((line) => line.out?.type === "agent_end");
    const events = lines
      .slice(
        lines.findIndex((line) => line.out?.type === "message_end"),
        end + 1,
      )
      .flatMap((line) => wire.fromPi(line.out));
    events.push(...wire.answerQuestions());
    expect(turnEvents(events)).toEqual([
      { type: "turn.completed", turn_id: undefined, response: "echo: hello there" },
    ]);
  });

  test("a prompt first asks whether pi is busy, and waits for the run under way", async () => {
    const wire = new PiWire();
    await wire.session.prompt(prompt("t2", "second prompt"));
    expect(wire.written).toEqual([{ id: "agentd-1", type: "get_state" }]);
    wire.session.receive(
      JSON.stringify({
        id: "agentd-1",
        type: "response",
        command: "get_state",
        success: true,
        data: { isStreaming: true },
      }),
    );
    expect(wire.written.map((m) => m.type)).toEqual(["get_state"]);
    wire.fromPi({ type: "agent_end", messages: [] });
    wire.answerQuestions();
    expect(wire.written.at(-1)).toEqual({
      id: "agentd-3",
      type: "prompt",
      message: "second prompt",
    });
  });
});

describe("pi session: a process that is gone", () => {
  test("a prompt that cannot be written fails its delivery, and the next one is tried afresh", async () => {
    const writes: string[] = [];
    const session = pi.open(
      {
        write: async (bytes) => {
          writes.push(new TextDecoder().decode(bytes));
          throw new Error("EPIPE: broken pipe, write");
        },
        emit: () => {},
      },
      AGENT,
    );
    // Handed over (no handshake): the busy question is the first write, and it fails.
    await expect(session.prompt(prompt("t1", "one"))).rejects.toThrow("EPIPE");
    await expect(session.prompt(prompt("t2", "two"))).rejects.toThrow("EPIPE");
    expect(writes.map((line) => JSON.parse(line).type)).toEqual(["get_state", "get_state"]);
  });
});

describe("pi session: what it does not understand", () => {
  test("lines that are not pi's JSON, or that it does not know, are skipped and never throw", () => {
    const wire = new PiWire();
    for (const line of ["", "not json", "[1,2]", "{broken", '{"type":"something_new"}', "null"]) {
      expect(wire.session.receive(line)).toEqual([]);
    }
    expect(wire.session.receive('{"type":"agent_end"}')).toEqual([]);
    expect(wire.session.receive('{"type":"message_end","message":null}')).toEqual([]);
    expect(wire.session.receive('{"type":"response","id":"nobody","success":true}')).toEqual([]);
  });
});
