/**
 * A minimal Agent Client Protocol client for tests (opencode acp, gemini --acp): the handshake,
 * sessions, prompts with their streamed text, cancel, and permission requests answered by policy.
 */

import { CliProcess } from "./cli-process.ts";
import { type IncomingRequest, JsonRpcPeer } from "./json-rpc.ts";
import type { CliSetup } from "./setup.ts";

/** How `session/request_permission` is answered: the first option of the matching kind. */
export type PermissionAnswer = "allow" | "deny";

export interface PromptOutcome {
  // biome-ignore lint/suspicious/noExplicitAny: the agent's JSON, read by each test
  result: any;
  /** The `agent_message_chunk` text streamed during this prompt, joined. */
  text: string;
}

export const ACP_PROTOCOL_VERSION = 1;

export class AcpClient {
  readonly rpc: JsonRpcPeer;
  permissionAnswer: PermissionAnswer = "deny";
  // biome-ignore lint/suspicious/noExplicitAny: the agent's JSON, read by each test
  initializeResult: any;

  private constructor(readonly cli: CliProcess) {
    this.rpc = new JsonRpcPeer(cli);
    this.rpc.answerRequests((request) => this.answer(request));
  }

  /** Starts the agent and completes `initialize` (no fs/terminal capabilities offered). */
  static async start(setup: CliSetup, args: string[]): Promise<AcpClient> {
    const client = new AcpClient(CliProcess.start(setup, args));
    client.initializeResult = await client.rpc.request("initialize", {
      protocolVersion: ACP_PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
    });
    return client;
  }

  async newSession(cwd: string): Promise<string> {
    const result = await this.rpc.request("session/new", { cwd, mcpServers: [] });
    return result.sessionId;
  }

  /** Loads an earlier session (the agent replays its history as session/update notifications). */
  // biome-ignore lint/suspicious/noExplicitAny: the agent's JSON, read by each test
  loadSession(sessionId: string, cwd: string): Promise<any> {
    return this.rpc.request("session/load", { sessionId, cwd, mcpServers: [] });
  }

  /** Sends one prompt; resolves when the agent answers it (its `stopReason` ends the turn). */
  async prompt(sessionId: string, text: string): Promise<PromptOutcome> {
    const from = this.cli.received.length;
    const result = await this.rpc.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text }],
    });
    return { result, text: this.streamedText(sessionId, from) };
  }

  cancel(sessionId: string): void {
    this.rpc.notify("session/cancel", { sessionId });
  }

  /** `session/update` payloads for a session received since stdout message `from`. */
  // biome-ignore lint/suspicious/noExplicitAny: the agent's JSON, read by each test
  updates(sessionId: string, from = 0): any[] {
    return (
      this.cli.received.slice(from) as {
        method?: string;
        params?: { sessionId?: string; update?: unknown };
      }[]
    )
      .filter(
        (message) =>
          message?.method === "session/update" && message.params?.sessionId === sessionId,
      )
      .map((message) => message.params?.update);
  }

  private streamedText(sessionId: string, from: number): string {
    return this.updates(sessionId, from)
      .filter(
        (update) =>
          update?.sessionUpdate === "agent_message_chunk" && update.content?.type === "text",
      )
      .map((update) => update.content.text)
      .join("");
  }

  private answer(request: IncomingRequest): unknown {
    if (request.method !== "session/request_permission") {
      return { error: { code: -32601, message: `method not supported: ${request.method}` } };
    }
    const kinds =
      this.permissionAnswer === "allow"
        ? ["allow_once", "allow_always"]
        : ["reject_once", "reject_always"];
    const options: { optionId: string; kind: string }[] = request.params?.options ?? [];
    const option = kinds
      .map((kind) => options.find((candidate) => candidate.kind === kind))
      .find(Boolean);
    return option
      ? { outcome: { outcome: "selected", optionId: option.optionId } }
      : { outcome: { outcome: "cancelled" } };
  }
}
