/**
 * pi against the fake provider: a `fake` provider with `baseUrl` in `models.json` under
 * `PI_CODING_AGENT_DIR`, `PI_OFFLINE=1`, and retries off in `settings.json`.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeLlm } from "../../test/fixtures/fake-llm.ts";
import { type CliSetup, ensureDir, installedBinary, isolatedEnvironment } from "../lib/setup.ts";

/** The extension that asks the RPC client before bash, edit and write run. */
export const PI_PERMISSION_GATE = join(import.meta.dir, "pi-permission-gate.ts");

export const PI_PROVIDER = "fake";
export const PI_MODEL = "fake-model";
/** A model pi may think with (`reasoning`), which takes OpenAI's `reasoning_effort`. */
export const PI_THINKING_MODEL = "fake-thinker";
/** Dollars per million tokens, as pi's models.json takes them: pi computes cost from these. */
export const PI_PRICES = { input: 3, output: 15, cacheRead: 0, cacheWrite: 0 };

export function piSetup(llm: FakeLlm, dir: string): CliSetup {
  const base = isolatedEnvironment(dir);
  const agentDir = ensureDir(join(base.home, ".pi/agent"));
  writeFileSync(join(agentDir, "models.json"), JSON.stringify(piModels(llm), null, 2));
  writeFileSync(
    join(agentDir, "settings.json"),
    JSON.stringify({ retry: { enabled: false, provider: { maxRetries: 0 } } }, null, 2),
  );
  return {
    name: "pi",
    command: [installedBinary("pi")],
    ...base,
    env: {
      ...base.env,
      PI_CODING_AGENT_DIR: agentDir,
      PI_OFFLINE: "1",
      PI_SKIP_VERSION_CHECK: "1",
    },
  };
}

function piModels(llm: FakeLlm) {
  return {
    providers: {
      [PI_PROVIDER]: {
        baseUrl: `${llm.url}/v1`,
        api: "openai-completions",
        apiKey: "sk-fake",
        models: [
          {
            id: PI_MODEL,
            name: "Fake model",
            reasoning: false,
            input: ["text"],
            contextWindow: 128_000,
            maxTokens: 4096,
            cost: PI_PRICES,
          },
          {
            id: PI_THINKING_MODEL,
            name: "Fake thinking model",
            reasoning: true,
            compat: { supportsReasoningEffort: true },
            input: ["text"],
            contextWindow: 128_000,
            maxTokens: 4096,
            cost: PI_PRICES,
          },
        ],
      },
    },
  };
}

export interface PiOptions {
  /** Continue this session (an id or a session file). */
  session?: string;
  /** Only these tools (pi has no permission prompts: the tool list is its policy). */
  tools?: string[];
  /** Extensions to load (files), e.g. one that asks before tools run. */
  extensions?: string[];
}

/** The long-lived RPC mode: JSON commands in, JSON events out. */
export function piArgs(options: PiOptions = {}): string[] {
  return [
    "--mode",
    "rpc",
    "--provider",
    PI_PROVIDER,
    "--model",
    PI_MODEL,
    ...(options.session ? ["--session", options.session] : []),
    ...(options.tools ? ["--tools", options.tools.join(",")] : []),
    ...(options.extensions ?? []).flatMap((path) => ["--extension", path]),
  ];
}
