/**
 * Gemini CLI against the fake provider: `GOOGLE_GEMINI_BASE_URL` + `GEMINI_API_KEY`, and a user
 * `settings.json` that turns off auto-update, usage statistics, telemetry, IDE integration, loop
 * detection and retries, and names the model (so no routing calls to a classifier model).
 */

import { existsSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeLlm } from "../../test/fixtures/fake-llm.ts";
import { type CliSetup, ensureDir, installedBinary, isolatedEnvironment } from "../lib/setup.ts";

export const GEMINI_MODEL = "gemini-2.5-flash";

export function geminiSetup(llm: FakeLlm, dir: string): CliSetup {
  const base = isolatedEnvironment(dir);
  const settingsDir = ensureDir(join(base.home, ".gemini"));
  writeFileSync(join(settingsDir, "settings.json"), JSON.stringify(geminiSettings(), null, 2));
  return {
    name: "gemini",
    command: [installedBinary("gemini")],
    ...base,
    env: {
      ...base.env,
      GOOGLE_GEMINI_BASE_URL: llm.url,
      GEMINI_API_KEY: "fake-gemini-key",
      // Otherwise it re-executes itself in a second node process (for a larger heap).
      GEMINI_CLI_NO_RELAUNCH: "true",
      GEMINI_TELEMETRY_ENABLED: "false",
    },
  };
}

function geminiSettings() {
  return {
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      maxAttempts: 1,
      retryFetchErrors: false,
    },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
    model: { name: GEMINI_MODEL, disableLoopDetection: true, skipNextSpeakerCheck: true },
    security: { auth: { selectedType: "gemini-api-key" }, folderTrust: { enabled: false } },
  };
}

/** Gemini CLI's approval modes; `yolo` allows every tool without asking. */
export type GeminiApprovalMode = "default" | "auto_edit" | "yolo" | "plan";

/** The Agent Client Protocol on stdin/stdout. */
export function geminiArgs(options: { approvalMode?: GeminiApprovalMode } = {}): string[] {
  return ["--acp", ...(options.approvalMode ? ["--approval-mode", options.approvalMode] : [])];
}

/**
 * Gives the recorded sessions' files names from an earlier minute, as if the CLI were restarted
 * a minute or more later. Gemini CLI 0.61 names a session's file after the minute it was written
 * in, and `session/load` first opens a recording for the same id, which clobbers the session
 * when that lands in the same minute ("No previous sessions found for this project.",
 * google-gemini/gemini-cli#28775). Tests that load a session right away call this first.
 */
export function backdateGeminiSessions(setup: CliSetup): void {
  const projects = join(setup.home, ".gemini/tmp");
  for (const project of readdirSync(projects)) {
    const chats = join(projects, project, "chats");
    if (!existsSync(chats)) continue;
    for (const file of readdirSync(chats)) {
      const backdated = file.replace(
        /^session-[\dT-]+?-(?=[0-9a-f]{8}\.jsonl$)/,
        "session-2000-01-01T00-00-",
      );
      if (backdated !== file) renameSync(join(chats, file), join(chats, backdated));
    }
  }
}
