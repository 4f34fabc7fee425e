/**
 * Codex against the fake provider: a `model_providers.fake` entry in `$CODEX_HOME/config.toml`
 * with `wire_api = "responses"` and no retries; update checks, analytics and feedback off.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeLlm } from "../../test/fixtures/fake-llm.ts";
import { type CliSetup, ensureDir, installedBinary, isolatedEnvironment } from "../lib/setup.ts";

/** A model codex knows (else it warns on every turn that it lacks the model's metadata). */
export const CODEX_MODEL = "gpt-5.5";
const API_KEY_VARIABLE = "FAKE_LLM_API_KEY";

export function codexSetup(llm: FakeLlm, dir: string): CliSetup {
  const base = isolatedEnvironment(dir);
  const codexHome = ensureDir(join(base.home, ".codex"));
  writeFileSync(join(codexHome, "config.toml"), codexConfig(llm));
  return {
    name: "codex",
    command: [installedBinary("codex")],
    ...base,
    env: { ...base.env, CODEX_HOME: codexHome, [API_KEY_VARIABLE]: "sk-fake" },
  };
}

function codexConfig(llm: FakeLlm): string {
  return `model = "${CODEX_MODEL}"
model_provider = "fake"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[model_providers.fake]
name = "fake-llm"
base_url = "${llm.url}/v1"
wire_api = "responses"
env_key = "${API_KEY_VARIABLE}"
request_max_retries = 0
stream_max_retries = 0
`;
}

/** The long-lived JSON-RPC interface on stdin/stdout. */
export const CODEX_APP_SERVER_ARGS = ["app-server"];
