import { defineCommand } from "./command.ts";

/**
 * An omni agent built into agentd, so the whole system can be tried without an LLM: every
 * prompt is answered with `echo: <prompt>`, a small token count and a cost of 0.1 cents.
 */
export const echoAgentCommand = defineCommand({
  name: "echo-agent",
  summary: "a built-in agent that answers every prompt with `echo: PROMPT` (no LLM needed)",
  synopsis: "echo-agent [--provider P] [--model M] [--json] [ANY ARGUMENTS]",
  description: [
    "Speaks the omni protocol: NUL-framed prompts (raw text or v1 envelopes) on stdin, JSON",
    "lines on stdout; exits when stdin ends. agentd launches agents with arguments of its own,",
    "so every argument is accepted and all but --model are ignored. For example:",
    '  agentd spawn --command "$(command -v agentd) echo-agent" hello',
  ].join("\n"),
  flags: {},
  rawArgs: true,
  async run({ rest }) {
    const model = valueAfter(rest, "--model") ?? "echo";
    const out = Bun.stdout.writer();
    for await (const frame of nulFrames(Bun.stdin.stream())) {
      for (const event of echoTurn(decodePrompt(frame), model))
        out.write(`${JSON.stringify(event)}\n`);
      // The daemon follows turns as lines arrive; nothing may wait in a buffer.
      await out.flush();
    }
    return 0;
  },
});

/** What one NUL-terminated frame asks: the input, and a turn id when it came in an envelope. */
interface EchoPrompt {
  turnId: string | undefined;
  input: string;
}

const COST_CENTS_PER_TURN = 0.1;

function decodePrompt(frame: string): EchoPrompt {
  try {
    const value: unknown = JSON.parse(frame);
    if (isEnvelope(value)) return { turnId: value.turn_id, input: value.input };
  } catch {}
  return { turnId: undefined, input: frame };
}

/** The omni events of one turn, in order. */
function echoTurn({ turnId, input }: EchoPrompt, model: string): object[] {
  const response = `echo: ${input}`;
  const timestamp = new Date().toISOString();
  const custom = (custom_type: string, data: object) => ({
    type: "custom",
    custom_type,
    data: { turn_id: turnId, ...data },
    timestamp,
  });
  return [
    custom("agent_start", {}),
    { type: "infer_start", model, prompt_preview: input.slice(0, 40), timestamp },
    {
      type: "infer_end",
      model,
      tokens: wordCount(input) + wordCount(response),
      cost_cents: COST_CENTS_PER_TURN,
      response_preview: response.slice(0, 40),
      duration_ms: 0,
      timestamp,
    },
    custom("agent_complete", { response }),
  ];
}

/** Splits a byte stream at NUL bytes; a trailing unterminated frame is not a prompt. */
async function* nulFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    pending = concat(pending, chunk);
    for (let nul = pending.indexOf(0); nul !== -1; nul = pending.indexOf(0)) {
      yield decoder.decode(pending.subarray(0, nul));
      pending = pending.subarray(nul + 1);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function isEnvelope(value: unknown): value is { turn_id?: string; input: string } {
  if (typeof value !== "object" || value === null) return false;
  const envelope = value as Record<string, unknown>;
  return (
    envelope.v === 1 &&
    typeof envelope.input === "string" &&
    (envelope.turn_id === undefined || typeof envelope.turn_id === "string")
  );
}

function valueAfter(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index === -1 ? undefined : argv[index + 1];
}

/** A stand-in for a tokenizer: one token per word is close enough for a demo's usage numbers. */
function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}
