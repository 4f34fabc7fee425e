/**
 * opencode against the fake provider: an OpenAI-compatible provider whose `baseURL` is the fake
 * server, in the config file named by `OPENCODE_CONFIG`; auto-update, the models.dev fetch,
 * default plugins, LSP downloads, sharing and Claude Code imports switched off.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeLlm } from "../../test/fixtures/fake-llm.ts";
import { type CliSetup, installedBinary, isolatedEnvironment } from "../lib/setup.ts";

export const OPENCODE_MODEL = "fake/fake-model";

/** opencode's per-tool permission values: `ask` becomes an ACP `session/request_permission`. */
export type OpencodePermission = "ask" | "allow" | "deny";

export interface OpencodeOptions {
  /** Per tool (`bash`, `edit`, `webfetch`, …) or `"*"`; opencode's default allows most tools. */
  permission?: Record<string, OpencodePermission>;
}

export function opencodeSetup(llm: FakeLlm, dir: string, options: OpencodeOptions = {}): CliSetup {
  const base = isolatedEnvironment(dir);
  const configPath = join(dir, "opencode.json");
  writeFileSync(configPath, JSON.stringify(opencodeConfig(llm, options), null, 2));
  return {
    name: "opencode",
    command: [installedBinary("opencode")],
    ...base,
    env: {
      ...base.env,
      OPENCODE_CONFIG: configPath,
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
      OPENCODE_DISABLE_SHARE: "1",
      OPENCODE_DISABLE_CLAUDE_CODE: "1",
      OPENCODE_DISABLE_EXTERNAL_SKILLS: "1",
    },
  };
}

function opencodeConfig(llm: FakeLlm, options: OpencodeOptions) {
  return {
    $schema: "https://opencode.ai/config.json",
    model: OPENCODE_MODEL,
    autoupdate: false,
    share: "disabled",
    provider: {
      fake: {
        npm: "@ai-sdk/openai-compatible",
        name: "fake-llm",
        options: { baseURL: `${llm.url}/v1`, apiKey: "sk-fake" },
        models: {
          "fake-model": {
            name: "Fake model",
            // With a context limit opencode sends usage_update (context use and session cost).
            limit: { context: 128_000, output: 4096 },
            cost: { input: 3, output: 15 },
          },
        },
      },
    },
    ...(options.permission ? { permission: options.permission } : {}),
  };
}

/** The Agent Client Protocol on stdin/stdout. */
export const OPENCODE_ACP_ARGS = ["acp"];
