/**
 * Claude Code against the fake provider: `ANTHROPIC_BASE_URL` + `ANTHROPIC_API_KEY`, with
 * retries, auto-update, telemetry and other non-essential traffic switched off.
 */

import type { FakeLlm } from "../../test/fixtures/fake-llm.ts";
import { type CliSetup, installedBinary, isolatedEnvironment } from "../lib/setup.ts";

/** A model Claude Code has prices for, so it reports a cost. */
export const CLAUDE_MODEL = "claude-sonnet-4-5";

export function claudeSetup(llm: FakeLlm, dir: string): CliSetup {
  const base = isolatedEnvironment(dir);
  return {
    name: "claude",
    command: [installedBinary("claude")],
    ...base,
    env: {
      ...base.env,
      ANTHROPIC_BASE_URL: llm.url,
      ANTHROPIC_API_KEY: "sk-ant-fake",
      CLAUDE_CODE_MAX_RETRIES: "0",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
    },
  };
}

export type ClaudePermissionMode =
  | "default"
  | "acceptEdits"
  | "bypassPermissions"
  | "plan"
  | "dontAsk"
  | "auto";

export interface ClaudeOptions {
  model?: string;
  /** Continue this session (the `session_id` of an earlier process). */
  resume?: string;
  /** `bypassPermissions` is refused as root unless the environment has IS_SANDBOX=1. */
  permissionMode?: ClaudePermissionMode;
  /** Tools (or rules such as `Bash(echo:*)`) that run without asking. */
  allowedTools?: string[];
  /**
   * Ask us: permission questions arrive as `can_use_tool` control requests on stdout. Without it,
   * a tool the permission mode and rules do not allow is denied at once.
   */
  askOverStdio?: boolean;
}

/** The long-lived structured mode: one JSON user message per line in, stream-json out. */
export function claudeArgs(options: ClaudeOptions = {}): string[] {
  return [
    "-p",
    "--input-format",
    "stream-json",
    "--output-format",
    "stream-json",
    "--verbose",
    "--model",
    options.model ?? CLAUDE_MODEL,
    ...(options.resume ? ["--resume", options.resume] : []),
    ...(options.permissionMode ? ["--permission-mode", options.permissionMode] : []),
    ...(options.allowedTools?.length ? ["--allowedTools", options.allowedTools.join(",")] : []),
    ...(options.askOverStdio ? ["--permission-prompt-tool", "stdio"] : []),
  ];
}
